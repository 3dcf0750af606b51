"""The subcommands of the `sciml` command, one module each.

Each module defines `add_parser(subparsers)`, which adds its subcommand and sets
`func(args) -> int` as the handler.
"""
