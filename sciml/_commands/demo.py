"""`sciml demo`: the end-to-end slice."""


def _run(args) -> int:
    from .. import _demo

    _demo.main(args.out, seed=args.seed, progress=not args.no_progress)
    return 0


def add_parser(subparsers) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="generate advection data, train an FNO and an ODE-Net, run the "
        "convergence test, write a report",
    )
    demo.add_argument("--out", default="runs/demo", help="output folder")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    demo.set_defaults(func=_run)
