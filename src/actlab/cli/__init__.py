"""The `actlab` command: a thin layer over the library.

Every subcommand lives in a module of this package that defines
`add_commands(subparsers)`; each parser sets `func(args) -> int | None`.
Bad input (an ActlabError or an argparse error) and environment faults (an
OSError: a full disk, a file that vanished) print one line and exit 2. Any other
exception is a bug in actlab: one line saying where its traceback was written
(ACTLAB_LOG_DIR, default ~/.cache/actlab/logs, else the temporary directory), exit 1.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
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
        return _fail(str(exc))
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror}{where}" if exc.strerror else f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        print("actlab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: keep the traceback, show one line
        log = _write_traceback()
        first = (str(exc).splitlines() or [""])[0]
        print(f"actlab: internal error: {type(exc).__name__}: {first} (traceback in {log}; please report it)",
              file=sys.stderr)
        return 1


def _fail(message: str) -> int:
    print("actlab: error: " + " ".join(message.split()), file=sys.stderr)
    return 2


def _write_traceback() -> str:
    text = f"actlab {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}"
    name = f"actlab-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    env = os.environ.get("ACTLAB_LOG_DIR")
    for folder in ([Path(env)] if env else []) + [Path.home() / ".cache" / "actlab" / "logs",
                                                   Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
            return str(folder / name)
        except OSError:
            continue
    return "nowhere: no writable log directory"
