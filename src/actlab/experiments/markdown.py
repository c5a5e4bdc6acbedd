"""Markdown cells and rows shared by the report's parts."""
from __future__ import annotations

import math


def fmt_value(v) -> str:
    """A configuration value as a table shows it: '–' for missing, 3 for 3.0, else str(v)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def md_row(cells: list) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
