"""Speed of the infinite-width kernels: (a) one pair of inputs and (b) N = 256 inputs through
50 layers, NNGP and NTK, for relu, erf, tanh, gelu, zorro and mrepu at their critical init.

    python3 benchmarks/bench_theory.py [--json bench_theory.json] [--depth 50] [--n 256]
                                       [--nt-python /work/wt/ntenv/bin/python]

torch runs with --threads intra-op threads (default 1). Each activation runs at its accuracy: the `tol` column is the bound on the Hermite
truncation relative to √(K_ii K_jj) (pairs beyond it go to the adaptive quadrature);
closed forms are exact to rounding. Also timed:
the adaptive two-input quadrature `pair_trajectory` (the reference), per layer.

neural-tangents is compared when a separate Python environment with it is given
(--nt-python, default /work/wt/ntenv/bin/python if present; it must not be the project's
environment: jax does not go there). It runs the same network as
nt.stax.serial(Dense, (Act, Dense) × (depth − 1)), W_std = √C_W, b_std = √C_b,
parameterization='ntk', with closed forms (Relu, Erf, Gelu) or ElementwiseNumerical
(Gauss–Hermite, deg 25) for tanh; the jitted kernel_fn is timed on its second call.
The columns nt_seconds, ratio (actlab/nt) and max_diff (the largest |ΔK|/√(K_iiK_jj)
between the two) come from the same run. Without it those columns are null.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from actlab.theory import critical_init, nngp, ntk, pair_trajectory  # noqa: E402
from actlab.theory.plot import default_k0  # noqa: E402

ACTIVATIONS = {  # name: (tol, neural-tangents layer or None)
    "relu": (1e-9, "Relu()"),
    "erf": (1e-9, "Erf()"),
    "tanh": (1e-9, "ElementwiseNumerical(jnp.tanh, deg=25)"),
    "gelu": (1e-9, "Gelu(approximate=False)"),
    "zorro": (1e-9, None),
    "mrepu": (1e-9, None),
}
NT_DEFAULT = Path("/work/wt/ntenv/bin/python")

NT_SCRIPT = r"""
import json, sys, time
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from neural_tangents import stax
from neural_tangents.stax import *
spec = json.load(open(sys.argv[1]))
X = jnp.asarray(np.load(spec["x"]))
layer = eval(spec["layer"])
Wstd, bstd = spec["C_W"] ** 0.5, spec["C_b"] ** 0.5
layers = [Dense(1, W_std=Wstd, b_std=bstd, parameterization="ntk")]
for _ in range(spec["depth"] - 1):
    layers += [layer, Dense(1, W_std=Wstd, b_std=bstd, parameterization="ntk")]
_, _, kernel_fn = stax.serial(*layers)
kernel_fn = jax.jit(kernel_fn, static_argnames="get")
out = {}
for get in ("nngp", "ntk"):
    jax.block_until_ready(kernel_fn(X, None, get=get))       # compile
    t = time.perf_counter()
    k = jax.block_until_ready(kernel_fn(X, None, get=get))
    out[get] = {"seconds": time.perf_counter() - t}
    np.save(spec["x"] + "." + get + ".npy", np.asarray(k))
print(json.dumps(out))
"""


def inputs(name: str, n: int, depth: int, seed: int = 0) -> tuple[np.ndarray, float, float]:
    """Gaussian inputs (n × 64) scaled so that the mean K⁽¹⁾ is the CLI's default start, and the init."""
    crit = critical_init(name)
    X = np.random.default_rng(seed).normal(size=(n, 64))
    K1 = default_k0(crit.cls, crit.K_star, crit.a1, depth)
    C_b, C_W = crit.C_b or 0.0, crit.C_W
    scale = np.sqrt(max(K1 - C_b, 1e-12) / C_W)  # K⁽¹⁾ = C_b + C_W·|x|²/n₀ on average
    return X * scale, C_b, C_W


def timed(fn) -> tuple[float, np.ndarray]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run_nt(nt_python: Path, X: np.ndarray, layer: str, C_b: float, C_W: float, depth: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.npy")
        np.save(x, X)
        spec = os.path.join(tmp, "spec.json")
        Path(spec).write_text(json.dumps({"x": x, "layer": layer, "C_b": C_b, "C_W": C_W, "depth": depth}))
        script = os.path.join(tmp, "nt.py")
        Path(script).write_text(NT_SCRIPT)
        res = subprocess.run([str(nt_python), script, spec], capture_output=True, text=True, timeout=1800,
                             env={**os.environ, "JAX_PLATFORMS": "cpu"})
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "neural-tangents failed")
        out = json.loads(res.stdout.strip().splitlines()[-1])
        for get in ("nngp", "ntk"):
            out[get]["kernel"] = np.load(x + "." + get + ".npy")
        return out


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    d = np.sqrt(np.abs(np.outer(np.diag(b), np.diag(b))))
    return float(np.max(np.abs(a - b) / d))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", default=None, help="write the rows to this file")
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--n", type=int, default=256, help="inputs in case (b)")
    p.add_argument("--only", nargs="*", default=list(ACTIVATIONS), help="activations to run")
    p.add_argument("--reference-layers", type=int, default=2,
                   help="layers of the adaptive pair_trajectory to time (its per-layer cost is reported)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (default 1: the tensors are small, and threads only add "
                        "synchronisation, badly so on a busy machine)")
    p.add_argument("--nt-python", default=str(NT_DEFAULT) if NT_DEFAULT.exists() else None,
                   help="python of a separate environment with neural-tangents (skipped when absent)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    nt_python = Path(args.nt_python) if args.nt_python else None
    if nt_python is not None and not nt_python.exists():
        print(f"neural-tangents environment {nt_python} not found: skipped", file=sys.stderr)
        nt_python = None
    rows = []
    for name in args.only:
        tol, layer = ACTIVATIONS[name]
        for case, n in (("(a) one pair", 2), ("(b) batch", args.n)):
            X, C_b, C_W = inputs(name, n, args.depth)
            nt = None
            if nt_python is not None and layer is not None:
                try:
                    nt = run_nt(nt_python, X, layer, C_b, C_W, args.depth)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    print(f"neural-tangents failed for {name}: {exc}", file=sys.stderr)
            for kind, fn in (("nngp", nngp), ("ntk", ntk)):
                sec, K = timed(lambda: fn(name, X, C_b, C_W, args.depth, tol=tol))
                row = {"case": case, "activation": name, "kernel": kind, "N": n, "depth": args.depth,
                       "C_b": C_b, "C_W": C_W, "tol": tol, "seconds": sec, "nt_layer": layer,
                       "nt_seconds": None, "ratio": None, "max_diff": None}
                if nt is not None:
                    row.update(nt_seconds=nt[kind]["seconds"], ratio=sec / nt[kind]["seconds"],
                               max_diff=max_diff(K, nt[kind]["kernel"]))
                rows.append(row)
                print(f"{case:13s} {name:6s} {kind:5s} N={n:4d} L={args.depth}: {sec:8.3f} s"
                      + (f"  nt {row['nt_seconds']:.3f} s  ratio {row['ratio']:.2f}  max diff {row['max_diff']:.1e}"
                         if row["nt_seconds"] else ""), flush=True)
        if args.reference_layers > 0:
            X, C_b, C_W = inputs(name, 2, args.depth)
            K1 = C_b + C_W * X @ X.T / X.shape[1]
            sec, _ = timed(lambda: pair_trajectory(name, C_b, C_W, K1, args.reference_layers))
            rows.append({"case": "reference: adaptive pair_trajectory", "activation": name, "kernel": "nngp", "N": 2,
                         "depth": args.reference_layers, "seconds_per_layer": sec / args.reference_layers})
            print(f"reference     {name:6s} nngp  adaptive quadrature: {sec / args.reference_layers:.3f} s per layer",
                  flush=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "torch_threads": args.threads, "load_average": os.getloadavg(),
            "nt_python": str(nt_python) if nt_python else None}
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
