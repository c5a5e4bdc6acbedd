"""`actlab list`, `actlab show`, `actlab gallery`."""
from __future__ import annotations


def add_commands(sub) -> None:
    pass
