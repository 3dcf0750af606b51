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
    parser = build_parser()
    # A command that passes arguments on (`sciml bench NAME --steps 20`) sets
    # `passthrough`; any other command refuses what it does not know.
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.passed_on = rest
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
