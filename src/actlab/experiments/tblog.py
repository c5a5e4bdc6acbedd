"""Optional TensorBoard scalars per run: RUN_DIR/tensorboard/<run id>/ (needs `tensorboard`)."""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import ActlabError


def require_tensorboard() -> None:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ActlabError("TensorBoard logging needs tensorboard: pip install 'actlab[tensorboard]'") from None


def log_run(run_dir: Path, rid: str, config: dict, history: list, metrics: dict) -> None:
    """Per-epoch history as scalars (step = the 'epoch' entry, else the row index), plus hparams."""
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard" / rid)) as writer:
        for i, row in enumerate(history):
            step = int(row.get("epoch", i))
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    writer.add_scalar(key, value, step)
        hparams = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in config.items()}
        finite = {f"final/{k}": v for k, v in metrics.items() if math.isfinite(v)}
        writer.add_hparams(hparams, finite, run_name=".")
