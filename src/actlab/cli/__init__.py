"""The `actlab` command: a thin layer over the library.

Every subcommand lives in a module of this package that defines
`add_commands(subparsers)`; each parser sets `func(args) -> int | None`.
Bad input (an ActlabError or an argparse error) prints one line and exits 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from .. import __version__
from ..errors import ActlabError

COMMAND_MODULES = (
    "actlab.cli.activations",
    "actlab.cli.theory",
    "actlab.cli.experiments",
    "actlab.cli.capacity",
    "actlab.cli.train",
    "actlab.cli.bench",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="actlab", description="A laboratory for activation functions and deep-network stability.")
    parser.add_argument("--version", action="version", version=f"actlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ActlabError as exc:
        print(f"actlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("actlab: interrupted", file=sys.stderr)
        return 130
