"""The `sciml` command: `sciml demo`, and one subcommand per module in
`sciml/_commands/`."""

import argparse
import importlib
import importlib.util
import sys

COMMANDS = ("demo", "data", "convergence", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sciml", description="sciml: neural PDE solvers in JAX."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        if importlib.util.find_spec(f"sciml._commands.{name}") is not None:
            importlib.import_module(f"sciml._commands.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
