"""Shared output helpers for subcommands: `--json` or human text."""
from __future__ import annotations

import json
import math
from typing import Any


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isinf(obj) or math.isnan(obj)):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return _jsonable(obj.item())
    return obj


def emit(args: Any, data: Any, text: str) -> None:
    """Print `data` as JSON when --json was given, else the human-readable `text`."""
    if getattr(args, "json", False):
        print(json.dumps(_jsonable(data), indent=2))
    else:
        print(text)
