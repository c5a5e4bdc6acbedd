"""The `finite_width` task kind: one point of the finite-width suite, sampled.

A run is one (activation, width) point of one pass: `act` at its critical point
(C_b, C_W) with K⁽¹⁾ = `actlab theory`'s default for depth `k1_depth` (the profile's depth;
marginal MRePU: 1/(2a₁·k1_depth)), one input's empirical kernel K̂⁽ᴸ⁾ sampled on `nets`
networks of width `width` (exact Gram-matrix sampling, actlab.theory.finite_width) at
the layers of `layer_grid(depth)`. Its artifact "sampled" holds, per layer, the mean ±
s.e. and variance ± s.e. over the networks that stayed finite, the counts that overflowed
and that ran away, and the mean ± s.e. over the bulk (without the runaways, which the 1/n
series cannot describe); its metrics the initialisation used and the last layer's values.

The seed is crc32("act|width|seed"), with "|confirm" appended on the confirmation pass
(`pass = "confirm"`), so that every point's errors are independent of the others'. A run
whose point was not sampled by this task (docs/results/finite_width: converted from the
suite's earlier format) says so in the artifact's "provenance" notes, which the report prints.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ...experiments.tasks import Field, RunResult, TaskSchema, register_task

PASSES = ("main", "confirm")   # confirm: the pass that decides the L/n ≤ 0.02 claim (claims.py)
RUNAWAY = 100.0                # K̂ above this × the median: a network running away (not perturbative in 1/n)


def layer_grid(depth: int) -> list[int]:
    """The layers sampled: every layer to 10, then sparser (the analysis needs small L at large n)."""
    grid = list(range(1, 11)) + [12, 14, 16, 18, 20, 25, 30, 35, 40, 50, 60, 70, 80, 90, 100, 150, 200]
    return [l for l in grid if l <= depth] + ([depth] if depth not in grid else [])


def case_init(name: str, k1_depth: int) -> dict:
    """C_b, C_W of `name`'s critical point and K⁽¹⁾, `actlab theory`'s default for that depth."""
    from ...theory import critical_init
    from ...theory.plot import default_k0

    c = critical_init(name)
    return {"C_b": float(c.C_b), "C_W": float(c.C_W), "K1": default_k0(c.cls, c.K_star, c.a1, k1_depth)}


def point_seed(act: str, width: int, seed: int, pass_: str) -> int:
    return zlib.crc32(f"{act}|{width}|{seed}{'|confirm' if pass_ == 'confirm' else ''}".encode())


def sample_point(name: str, init: dict, width: int, depth: int, nets: int, seed: int) -> dict:
    """Per layer of layer_grid(depth): mean, s.e., variance and its s.e. of one input's K̂ over the
    networks that stayed finite, the count that overflowed, and the mean ± s.e. over the bulk:
    without the networks that ran away (K̂ > RUNAWAY × the median, or overflowed)."""
    from ...theory.finite_width import sample_kernels, variance_with_error

    layers = layer_grid(depth)
    s = sample_kernels(name, init["C_b"], init["C_W"], width, depth - 1, init["K1"], n_inputs=1, n_nets=nets,
                       seed=seed)[:, [l - 1 for l in layers]]
    ok = np.isfinite(s)
    clean = np.where(ok, s, np.nan)
    # A runaway network's huge but finite K̂ overflows the moments to inf: a result the report shows
    # (inf ± nan), not a warning for the log.
    with np.errstate(over="ignore", invalid="ignore"):
        mean, se = _mean_se(clean)
        var, var_se = variance_with_error(clean)
        bulk = ok & (s <= RUNAWAY * np.nanmedian(clean, axis=0))
    bulk_mean, bulk_se = _mean_se(np.where(bulk, s, np.nan))
    return {"nets": nets, "layers": layers, "mean": _round(mean), "se": _round(se), "var": _round(var),
            "var_se": _round(var_se), "overflowed": (~ok).sum(0).tolist(), "runaway": (~bulk).sum(0).tolist(),
            "bulk_mean": _round(bulk_mean), "bulk_se": _round(bulk_se)}


def _mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.isfinite(x).sum(0)
    return np.nanmean(x, 0), np.nanstd(x, 0, ddof=1) / np.sqrt(np.maximum(n, 1))


def _round(x: np.ndarray) -> list:
    return [float(f"{v:.9g}") for v in x]


def execute_finite_width(config: dict, run_dir: Path) -> RunResult:
    act, width, depth, nets = config["act"], config["width"], config["depth"], config["nets"]
    init = case_init(act, config["k1_depth"])
    point = sample_point(act, init, width, depth, nets, point_seed(act, width, config.get("seed", 0), config["pass"]))
    last = {f"{key}_last": point[key][-1] for key in ("mean", "var", "overflowed", "runaway")}
    return RunResult(metrics={**init, **last}, extra={"sampled": point})


def _check(config: dict) -> None:
    from ...errors import ActlabError
    from ...theory import critical_init

    missing = [k for k in ("act", "width", "depth", "nets", "k1_depth", "pass") if k not in config]
    if missing:
        raise ActlabError(f"missing key(s) {', '.join(missing)}")
    for key in ("width", "depth", "nets", "k1_depth"):
        if config[key] < 1:
            raise ActlabError(f"'{key}' must be >= 1; got {config[key]}")
    if critical_init(config["act"]).C_W is None:
        raise ActlabError(f"{config['act']} has no critical point; the finite-width suite samples at one")


FINITE_WIDTH_SCHEMA = TaskSchema(fields={
    "act": Field(str, help="activation name or spec string (sampled at its critical point)"),
    "width": Field(int), "depth": Field(int, help="layers sampled: layer_grid(depth)"),
    "nets": Field(int, help="networks sampled"),
    "k1_depth": Field(int, help="K⁽¹⁾ is actlab theory's default for this depth (the profile's)"),
    "pass": Field(str, choices=PASSES), "seed": Field(int),
}, check=_check)

register_task("finite_width", execute_finite_width, FINITE_WIDTH_SCHEMA,
              "one (activation, width) point of the finite-width suite: K̂⁽ᴸ⁾ sampled on many networks")
