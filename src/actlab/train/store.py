"""A run directory: config, per-epoch metrics (JSON and CSV), checkpoint, final result.

    out_dir/train_config.json the TrainConfig (a resumed run must match it)
    out_dir/metrics.json     the history, one dict per epoch (rewritten every epoch)
    out_dir/metrics.csv      the same as a table
    out_dir/checkpoint.pt    the latest checkpoint (written atomically)
    out_dir/result.json      status, final metrics, divergence, probes (at the end)

Non-finite floats are written to JSON as null and to CSV as nan.
"""
from __future__ import annotations

import contextlib
import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Iterator, Optional

import torch

from ..errors import ActlabError
from ..places import RunLock, prepare_dir


def jsonable(obj: Any) -> Any:
    """Plain JSON types; non-finite floats → None, tensors/numpy scalars → Python numbers."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return jsonable(obj.item())
    return obj


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(jsonable(data), indent=1))
    os.replace(tmp, path)


class RunStore:
    """Reads and writes the files of one run directory.

    Reading (`has_run`, `check`, `load_result`) writes nothing. `open(config)` is the
    first write: it creates the directory (parents too), takes its lock for this
    process (actlab.places.RunLock; a second process gets an error naming the
    holder) and writes the config; use it as a context manager to release the lock.
    """

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.dir = Path(out_dir)
        self._lock: Optional[RunLock] = None

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint.pt"

    def has_run(self) -> bool:
        """Whether a run already left files here (a config or a checkpoint)."""
        return (self.dir / "train_config.json").exists() or self.checkpoint_path.exists()

    def check(self, config: dict, resume: bool = True) -> None:
        """Refuse a directory holding a run with another config (or any run, when not `resume`)."""
        if not resume and self.has_run():
            raise ActlabError(f"{self.dir} already holds a run; resume it (--resume) or choose another output directory")
        path = self.dir / "train_config.json"
        if path.exists():
            old = json.loads(path.read_text())
            diff = sorted(k for k in set(old) | set(config) if old.get(k) != jsonable(config.get(k)))
            if diff:
                raise ActlabError(f"{self.dir} holds a run with a different config ({', '.join(diff)}); "
                                  "use another output directory or remove it")

    @contextlib.contextmanager
    def open(self, config: dict) -> Iterator["RunStore"]:
        """Own the directory for the length of the block (see the class docstring)."""
        with RunLock(prepare_dir(self.dir, "run directory")):
            self.check(config)
            if not (self.dir / "train_config.json").exists():
                write_json(self.dir / "train_config.json", config)
            yield self

    def write_history(self, history: list[dict]) -> None:
        write_json(self.dir / "metrics.json", history)
        keys: list[str] = []
        for row in history:
            keys += [k for k in row if k not in keys]
        tmp = self.dir / "metrics.csv.tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(history)
        os.replace(tmp, self.dir / "metrics.csv")

    def save_checkpoint(self, state: dict) -> None:
        tmp = self.dir / "checkpoint.pt.tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint_path)

    def load_checkpoint(self) -> Optional[dict]:
        if not self.checkpoint_path.exists():
            return None
        try:
            return torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a truncated or foreign file: say which, do not guess
            raise ActlabError(f"cannot read checkpoint {self.checkpoint_path}: {exc}") from None

    def write_result(self, result: dict) -> None:
        write_json(self.dir / "result.json", result)

    def load_result(self) -> Optional[dict]:
        path = self.dir / "result.json"
        return json.loads(path.read_text()) if path.exists() else None
