"""`python -m benchmarks list | run NAME --scale S | report [--check] [--spread]`.

`sciml bench` forwards here, so the installed package never imports the benchmarks.

- `list`: each benchmark, its scales, its summary and its committed runs.
- `run NAME --scale S [ARGS...]`: `python -m benchmarks.NAME.run --scale S ARGS...`.
- `report`: rewrite every generated table in the README and the docs pages from the
  committed results files; `--check` writes nothing and fails (exit 1) if a table
  is out of date; `--spread` prints the tables with each number's range over the
  runs instead of writing them.
"""

import argparse
import os
import pathlib
import subprocess
import sys

from benchmarks import _bench, _report


def _list() -> int:
    for name, bench in _bench.discover().items():
        print(f"{name}  (scales: {', '.join(bench.scales)})\n    {bench.summary}")
        for folder in sorted((_bench.ROOT / name / "results").glob("*/")):
            runs = sorted(folder.glob("*.json"))
            if runs:
                print(f"    {folder.name}: {len(runs)} run(s), latest {runs[-1].stem}")
    return 0


def _run(name: str, scale: str, rest: list[str]) -> int:
    benches = _bench.discover()
    if name not in benches:
        print(
            f"sciml bench: no benchmark {name!r}; known: {', '.join(benches)}. "
            f"See `sciml bench list`.",
            file=sys.stderr,
        )
        return 2
    if scale not in benches[name].scales:
        print(
            f"sciml bench: {name} has no scale {scale!r}; it offers "
            f"{', '.join(benches[name].scales)}.",
            file=sys.stderr,
        )
        return 2
    repo = _bench.ROOT.parent
    path = [str(repo), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    command = [sys.executable, "-m", f"benchmarks.{name}.run", "--scale", scale]
    return subprocess.run([*command, *rest], cwd=repo, env=env).returncode


def _report_files(check: bool, spread: bool) -> int:
    tables = _bench.all_tables(spread)
    if spread:
        for name, md in tables.items():
            print(f"## {name}\n\n{md}")
        return 0
    stale = []
    for path in _report.marked_files():
        text = path.read_text()
        new = _report.update_text(text, tables, where=str(path))
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new)
    repo = _bench.ROOT.parent
    names = ", ".join(str(pathlib.Path(p).relative_to(repo)) for p in stale)
    if check and stale:
        print(
            f"sciml bench report: out of date: {names}. Fix: run `sciml bench "
            f"report` and commit the files.",
            file=sys.stderr,
        )
        return 1
    print(f"updated {names}" if stale else "every table is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sciml bench", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("list", help="the benchmarks and their committed runs")
    run = sub.add_parser("run", help="run one benchmark")
    run.add_argument("name")
    run.add_argument("--scale", default="quick")
    report = sub.add_parser("report", help="rebuild the README's and docs' tables")
    report.add_argument("--check", action="store_true", help="fail if out of date")
    report.add_argument("--spread", action="store_true", help="print with spreads")
    args, rest = parser.parse_known_args(argv)
    if rest and args.what != "run":
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.what == "list":
        return _list()
    if args.what == "run":
        return _run(args.name, args.scale, rest)
    return _report_files(args.check, args.spread)


if __name__ == "__main__":
    sys.exit(main())
