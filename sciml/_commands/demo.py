"""`sciml demo`: the end-to-end slice (the job itself is in `_demo_job`, imported
when the command runs, so that `sciml --help` does not import JAX)."""


def _run(args) -> int:
    from ._demo_job import main

    main(args.out, seed=args.seed, progress=not args.no_progress)
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
