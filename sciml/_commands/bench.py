"""`sciml bench list | NAME --scale quick|paper | report`: the benchmarks of a sciml
checkout (the `benchmarks/` folder of the repository, which is not installed).

The command forwards to `python -m benchmarks` in that checkout, so the library
itself never imports benchmark code.
"""

import argparse
import os
import pathlib
import subprocess
import sys


def _checkout(start: pathlib.Path) -> pathlib.Path | None:
    """The nearest folder at or above `start` that holds `benchmarks/__main__.py`."""
    for folder in (start, *start.parents):
        if (folder / "benchmarks" / "__main__.py").is_file():
            return folder
    return None


def _bench(args: argparse.Namespace) -> int:
    root = _checkout(pathlib.Path(args.root or os.getcwd()).resolve())
    if root is None:
        print(
            "sciml bench: no benchmarks/ folder here or above. Fix: run it inside a "
            "clone of the sciml repository, or pass --root PATH.",
            file=sys.stderr,
        )
        return 2
    if args.what in ("list", "report"):
        forwarded = [args.what, *args.passed_on]
    else:
        forwarded = ["run", args.what, "--scale", args.scale, *args.passed_on]
    path = [str(root), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    command = [sys.executable, "-m", "benchmarks", *forwarded]
    return subprocess.run(command, cwd=root, env=env).returncode


def add_parser(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench",
        help="run a benchmark, list them, or rebuild the README's tables",
        description="`sciml bench list`; `sciml bench NAME --scale quick|paper` runs "
        "benchmarks/NAME/run.py; `sciml bench report [--check] [--spread]` rewrites "
        "the README's and the docs' results tables from the committed results files. "
        "Other arguments are passed on (e.g. `--steps 20`, `--check`).",
    )
    bench.add_argument("what", help="list, report, or a benchmark's name")
    bench.add_argument("--scale", default="quick", help="quick (default) or paper")
    bench.add_argument("--root", default=None, help="the sciml checkout (default: .)")
    bench.set_defaults(func=_bench, passthrough=True)  # the rest is passed on
