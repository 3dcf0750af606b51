"""`sciml convergence run CHECKPOINT --system NAME`: the convergence test of a saved
model (Krishnapriyan et al., Commun. Phys. 6:319, 2023)."""

import math
import pathlib
import sys
import tempfile

ALL_SOLVERS = ("euler", "midpoint", "heun", "ralston", "rk4", "bosh3", "tsit5")


def _model_file(path: pathlib.Path) -> pathlib.Path:
    if path.is_dir():
        path = path / "model.eqx"
    if not path.is_file():
        raise ValueError(
            f"No model file at {path}. Pass a file written by "
            "sciml.training.save_model, or the run_dir of sciml.training.fit "
            "(which holds model.eqx)."
        )
    return path


def _field_of(model, dt_train):
    """The vector field, training step and training solver of a loaded model: an
    ODENet (anything with `.rhs`) as `convergence.test` takes it, else a callable
    y -> dy/dt as a method-of-lines field."""
    from .. import convergence, integrators

    field, dt_train = convergence.as_vector_field(model, dt_train)
    solver = None
    if field is not model:  # an ODENet: its training solver joins the sweep
        solver = getattr(model, "solver", None)
        if solver is not None:
            solver = integrators.solver_name(integrators.get_solver(solver))
    elif callable(model):
        field = convergence.MethodOfLines(model)
    else:
        raise ValueError(
            f"The model ({type(model).__name__}) is neither an ODENet nor a "
            "callable vector field y -> dy/dt."
        )
    if dt_train is None:
        raise ValueError(
            f"The model ({type(model).__name__}) does not record its training step; "
            "pass --dt-train."
        )
    return field, dt_train, solver


def _out_dir(path: pathlib.Path) -> pathlib.Path:
    """The output folder, created and checked writable before the sweep runs."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as e:
        raise ValueError(
            f"Cannot write to the output folder --out {path}: {e.strerror or e}. "
            "Pass a folder you may write to."
        ) from e
    return path


def _check_state(field, n: int) -> None:
    """Fail fast (before sampling initial states) when the model's state size is not
    the system's."""
    import jax
    import jax.numpy as jnp

    try:
        out = jax.eval_shape(lambda y: field(0.0, y, None), jnp.zeros(n))
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"The model does not accept the system's state of shape ({n},): {e}"
        ) from e
    if out.shape != (n,):
        raise ValueError(
            f"The model maps the system's state of shape ({n},) to {out.shape}; was "
            "it trained on another system?"
        )


def run(args) -> int:
    """Load the model, run the sweep, write the plot and JSON, print the verdict."""
    import numpy as np

    from .. import convergence, solvers, training

    try:
        system = solvers.get_system(args.system)
        model = training.load_model(_model_file(pathlib.Path(args.checkpoint)))
        field, dt_train, train_solver = _field_of(model, args.dt_train)
        solvers = list(args.solvers or ALL_SOLVERS)
        if train_solver is not None and train_solver not in solvers:
            solvers.insert(0, train_solver)
        dts = convergence.geometric_dts(dt_train, fine=args.fine, coarse=args.coarse)
        coarsest = float(dts[0])
        t1 = args.t1
        if t1 is None:  # the system's horizon, up to a multiple of the coarsest step
            t1 = coarsest * math.ceil(system.horizon / coarsest - 1e-9)
        _check_state(field, system.state_size)
        out = _out_dir(pathlib.Path(args.out))
        y0 = system.sample_initial_conditions(args.n_ic, seed=args.seed)
        report = convergence.test(
            field,
            y0,
            t1,
            dts=dts,
            reference=system.state_at,
            solvers=solvers,
            dt_train=dt_train,
            true_vector_field=system.vector_field,
        )
    except (ValueError, FileNotFoundError) as e:
        print(f"sciml convergence run: error: {e}", file=sys.stderr)
        return 2
    title = f"{pathlib.Path(args.checkpoint).name} on {args.system}: {report.verdict}"
    report.plot(out / "convergence.png", title=title)
    report.to_json(out / "convergence.json")
    print(report.summary())
    print(
        f"t1 = {t1:g}, dt_train = {dt_train:g}, {len(report.dts)} step sizes "
        f"{np.min(report.dts):.3g}..{np.max(report.dts):.3g}, {args.n_ic} initial "
        f"conditions; wrote {out / 'convergence.png'} and {out / 'convergence.json'}"
    )
    return 1 if args.strict and report.verdict != "PASS" else 0


def add_parser(subparsers) -> None:
    conv = subparsers.add_parser(
        "convergence",
        help="the convergence test: does a trained model capture continuous dynamics?",
    )
    sub = conv.add_subparsers(dest="action", required=True)
    r = sub.add_parser(
        "run",
        help="refine the time step of a saved model's vector field and judge it",
        description="Integrate the vector field of a model saved by sciml.training "
        "(an ODENet, or a callable y -> dy/dt with --dt-train) over a geometric sweep "
        "of step sizes dt_train * 2**j with fixed-step solvers; write "
        "convergence.png and convergence.json, print a one-line verdict.",
    )
    r.add_argument("checkpoint", help="model file (model.eqx) or a fit run_dir")
    r.add_argument(
        "--system",
        required=True,
        help="the true system: harmonic_oscillator, pendulum, lotka_volterra, lorenz63",
    )
    r.add_argument(
        "--solvers",
        nargs="+",
        default=None,
        help=f"fixed-step solvers (default: {' '.join(ALL_SOLVERS)}; the model's "
        "training solver is always included)",
    )
    r.add_argument("--out", default="runs/convergence", help="output folder")
    r.add_argument("--t1", type=float, default=None, help="horizon (default: system's)")
    r.add_argument(
        "--dt-train", type=float, default=None, help="training step (default: model's)"
    )
    r.add_argument("--n-ic", type=int, default=16, help="number of initial conditions")
    r.add_argument("--seed", type=int, default=1, help="seed of the initial conditions")
    r.add_argument("--fine", type=int, default=8, help="halvings below dt_train")
    r.add_argument("--coarse", type=int, default=2, help="doublings above dt_train")
    r.add_argument(
        "--strict", action="store_true", help="exit with status 1 unless PASS"
    )
    r.set_defaults(func=run)
