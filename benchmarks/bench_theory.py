"""Speed of the infinite-width kernels: (a) one pair of inputs and (b) N = 256 inputs through
50 layers, NNGP and NTK, for relu, erf, tanh, gelu, zorro and mrepu at their critical init,
against neural-tangents when it is given in a separate environment.

    python3 benchmarks/bench_theory.py [--json bench_theory.json] [--depth 50] [--n 256]
                                       [--nt-python /work/wt/ntenv/bin/python] [--nt-deg 25 50 100]
                                       [--repeats 3] [--cpu-core 0] [--cases a b]

Both sides run on one thread: torch.set_num_threads(--threads, default 1) and BLAS limited
to one thread in actlab; XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1" for jax; --cpu-core pins both processes to one core.
Each call is timed as CPU time (time.process_time, all threads of the process) and wall
time; the steady-state figure is the minimum over --repeats calls after a first call,
whose time (numba / XLA compilation and caches included) is reported separately.
Each activation runs at its accuracy: the `tol` column is the bound on actlab's Hermite
truncation per layer relative to √(K_ii K_jj) (pairs beyond it go to the adaptive
quadrature); closed forms (relu, erf, GELU) are exact to rounding and do not use it. The
smooth expansion (tanh) runs at 1e-13, the accuracy of neural-tangents' closed forms (it
costs it little: the series converge fast); Zorro and MRePU at the library's default 1e-9 (their kinks make a
tighter bound send the pairs near |ρ| = 1 to the adaptive quadrature). Also timed: the adaptive two-input
quadrature `pair_trajectory` (the reference), per layer.

neural-tangents is compared when a separate Python environment with it is given
(--nt-python, default /work/wt/ntenv/bin/python if present; it must not be the project's
environment: jax does not go there). It runs the same network as
nt.stax.serial(Dense, (Act, Dense) × (depth − 1)), W_std = √C_W, b_std = √C_b,
parameterization='ntk', float64, jitted, with its closed forms (Relu, Erf,
Gelu(approximate=False)) or, for tanh, which it has no closed form for,
ElementwiseNumerical(tanh, deg) — bivariate Gauss–Hermite with deg² points — at each
--nt-deg, through nt.batch in blocks of inputs where the (deg², b, b) quadrature tensor
would pass 1 GB. For every neural-tangents variant the row gets its CPU and wall time,
its first-call (compile) time, cpu_ratio = actlab CPU / neural-tangents CPU, and
max_diff = max |ΔK_ij|/√(K_ii K_jj) between the two; without it those fields are absent.
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

ACTIVATIONS = {  # name: (tol, neural-tangents layer: a stax expression, "numerical" for tanh's quadrature, or None)
    "relu": (1e-9, "Relu()"),
    "erf": (1e-9, "Erf()"),
    "tanh": (1e-13, "numerical"),
    "gelu": (1e-13, "Gelu(approximate=False)"),
    "zorro": (1e-9, None),
    "mrepu": (1e-9, None),
}
NT_DEFAULT = Path("/work/wt/ntenv/bin/python")
NT_MEMORY = 2 ** 30  # bytes of one (deg², b, b) quadrature tensor before neural-tangents is batched
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

NT_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore", message=".*(Numerical Activation|autodiff).*")
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import neural_tangents as nt
from neural_tangents import stax
from neural_tangents.stax import *
spec = json.load(open(sys.argv[1]))
X = jnp.asarray(np.load(spec["x"]))


def clock():
    return time.perf_counter(), time.process_time()


out = []
for k, variant in enumerate(spec["variants"]):
    layer = eval(variant["layer"])
    Wstd, bstd = spec["C_W"] ** 0.5, spec["C_b"] ** 0.5
    layers = [Dense(1, W_std=Wstd, b_std=bstd, parameterization="ntk")]
    for _ in range(spec["depth"] - 1):
        layers += [layer, Dense(1, W_std=Wstd, b_std=bstd, parameterization="ntk")]
    _, _, kernel_fn = stax.serial(*layers)
    if variant["batch"]:
        kernel_fn = nt.batch(kernel_fn, batch_size=variant["batch"], device_count=0)   # jitted inside
    else:
        kernel_fn = jax.jit(kernel_fn, static_argnames="get")
    row = dict(variant)
    for get in ("nngp", "ntk"):
        w, c = clock()
        jax.block_until_ready(kernel_fn(X, None, get=get))
        w1, c1 = clock()
        first, best, spent = (w1 - w, c1 - c), (float("inf"), float("inf")), 0.0
        for _ in range(spec["repeats"]):
            w, c = clock()
            K = jax.block_until_ready(kernel_fn(X, None, get=get))
            w1, c1 = clock()
            best, spent = (min(best[0], w1 - w), min(best[1], c1 - c)), spent + w1 - w
            if spent > spec["budget"]:
                break
        row[get] = {"wall": best[0], "cpu": best[1], "first_wall": first[0], "first_cpu": first[1]}
        np.save(f"{spec['x']}.{k}.{get}.npy", np.asarray(K))
    out.append(row)
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


def timed(fn, repeats: int, budget: float) -> dict:
    """Wall and CPU seconds of the first call and the minimum over `repeats` later calls
    (fewer once they have taken `budget` seconds of wall time), and the last result."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    first = (time.perf_counter() - w, time.process_time() - c)
    best, spent = [float("inf"), float("inf")], 0.0
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        best, spent = [min(best[0], wall), min(best[1], cpu)], spent + wall
        if spent > budget:
            break
    return {"wall": best[0], "cpu": best[1], "first_wall": first[0], "first_cpu": first[1], "result": out}


def nt_variants(layer: str, degs: list[int], n: int) -> list[dict]:
    """The neural-tangents layers to run: the closed form, or tanh's quadrature at each degree,
    batched in blocks of b inputs (b | n) where the (deg², n, n) tensor would pass NT_MEMORY."""
    if layer != "numerical":
        return [{"layer": layer, "batch": 0}]
    out = []
    for deg in degs:
        b = n
        while deg * deg * b * b * 8 > NT_MEMORY and b % 2 == 0 and b > 1:
            b //= 2
        out.append({"layer": f"ElementwiseNumerical(jnp.tanh, deg={deg})", "batch": 0 if b == n else b})
    return out


def run_nt(nt_python: Path, X: np.ndarray, variants: list[dict], C_b: float, C_W: float, depth: int,
           repeats: int, budget: float) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.npy")
        np.save(x, X)
        spec = os.path.join(tmp, "spec.json")
        Path(spec).write_text(json.dumps({"x": x, "variants": variants, "C_b": C_b, "C_W": C_W, "depth": depth,
                                          "repeats": repeats, "budget": budget}))
        script = os.path.join(tmp, "nt_kernel_fn.py")  # not nt.py: that name shadows the stdlib module `nt`
        Path(script).write_text(NT_SCRIPT)
        res = subprocess.run([str(nt_python), script, spec], capture_output=True, text=True, timeout=3600,
                             env={**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": XLA_ONE_THREAD,
                                  "TF_CPP_MIN_LOG_LEVEL": "3"})
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "neural-tangents failed")
        out = json.loads(res.stdout.strip().splitlines()[-1])
        for k, row in enumerate(out):
            for get in ("nngp", "ntk"):
                row[get]["kernel"] = np.load(f"{x}.{k}.{get}.npy")
        return out


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    d = np.sqrt(np.abs(np.outer(np.diag(b), np.diag(b))))
    return float(np.max(np.abs(a - b) / d))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", default=None, help="write the rows to this file")
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--n", type=int, default=256, help="inputs in case (b)")
    p.add_argument("--only", nargs="*", default=list(ACTIVATIONS), choices=list(ACTIVATIONS),
                   help="activations to run")
    p.add_argument("--cases", nargs="+", default=["a", "b"], choices=["a", "b"],
                   help="(a) one pair, (b) the batch of --n inputs")
    p.add_argument("--tol", type=float, default=None, help="actlab's Hermite tol for every activation "
                   "(default: each activation's, 1e-9)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed calls after the first (the minimum is reported; fewer after 30 s)")
    p.add_argument("--reference-layers", type=int, default=2,
                   help="layers of the adaptive pair_trajectory to time (its per-layer cost is reported)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (default 1: the tensors are small, and threads only add "
                        "synchronisation, badly so on a busy machine)")
    p.add_argument("--cpu-core", type=int, default=None,
                   help="pin this process and neural-tangents' to this CPU core (as taskset -c)")
    p.add_argument("--nt-python", default=str(NT_DEFAULT) if NT_DEFAULT.exists() else None,
                   help="python of a separate environment with neural-tangents (skipped when absent)")
    p.add_argument("--nt-deg", type=int, nargs="+", default=[25, 50, 100],
                   help="Gauss–Hermite degrees of neural-tangents' ElementwiseNumerical for tanh")
    args = p.parse_args(argv)
    if args.depth < 1 or args.n < 2 or args.repeats < 1 or min(args.nt_deg) < 1 or \
            (args.tol is not None and not 0 < args.tol < 1):
        p.error("need --depth >= 1, --n >= 2, --repeats >= 1, --nt-deg >= 1 and 0 < --tol < 1")
    if args.cpu_core is not None:
        os.sched_setaffinity(0, {args.cpu_core})  # inherited by the neural-tangents process
    torch.set_num_threads(args.threads)
    nt_python = Path(args.nt_python) if args.nt_python else None
    if nt_python is not None and not nt_python.exists():
        print(f"neural-tangents environment {nt_python} not found: skipped", file=sys.stderr)
        nt_python = None
    budget = 30.0
    rows = []
    for name in args.only:
        tol, layer = ACTIVATIONS[name]
        tol = args.tol or tol
        for case, n in [(c, n) for c, n in (("(a) one pair", 2), ("(b) batch", args.n)) if c[1] in args.cases]:
            X, C_b, C_W = inputs(name, n, args.depth)
            nt = None
            if nt_python is not None and layer is not None:
                try:
                    nt = run_nt(nt_python, X, nt_variants(layer, args.nt_deg, n), C_b, C_W, args.depth,
                                args.repeats, budget)
                except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                    print(f"neural-tangents failed for {name}: {exc}", file=sys.stderr)
            for kind, fn in (("nngp", nngp), ("ntk", ntk)):
                t = timed(lambda: fn(name, X, C_b, C_W, args.depth, tol=tol), args.repeats, budget)
                K = t.pop("result")
                row = {"case": case, "activation": name, "kernel": kind, "N": n, "depth": args.depth,
                       "C_b": C_b, "C_W": C_W, "tol": tol, **t, "seconds": t["cpu"], "nt": []}
                line = (f"{case:13s} {name:6s} {kind:5s} N={n:4d} L={args.depth}: "
                        f"cpu {t['cpu'] * 1e3:.4g} ms  wall {t['wall'] * 1e3:.4g} ms  (first call cpu {t['first_cpu']:.3f} s)")
                for v in nt or []:
                    r = {"layer": v["layer"], "batch": v["batch"], **{k: v[kind][k] for k in
                         ("cpu", "wall", "first_cpu", "first_wall")}}
                    r.update(cpu_ratio=t["cpu"] / r["cpu"], max_diff=max_diff(K, v[kind]["kernel"]))
                    row["nt"].append(r)
                    line += (f"\n    nt {r['layer']}{' batch ' + str(r['batch']) if r['batch'] else ''}: "
                             f"cpu {r['cpu'] * 1e3:.4g} ms  wall {r['wall'] * 1e3:.4g} ms  (first call cpu {r['first_cpu']:.2f} s)"
                             f"  actlab/nt cpu {r['cpu_ratio']:.2f}  max diff {r['max_diff']:.1e}")
                rows.append(row)
                print(line, flush=True)
        if args.reference_layers > 0:
            X, C_b, C_W = inputs(name, 2, args.depth)
            K1 = C_b + C_W * X @ X.T / X.shape[1]
            c = time.process_time()
            pair_trajectory(name, C_b, C_W, K1, args.reference_layers)
            sec = (time.process_time() - c) / args.reference_layers
            rows.append({"case": "reference: adaptive pair_trajectory", "activation": name, "kernel": "nngp", "N": 2,
                         "depth": args.reference_layers, "cpu_per_layer": sec})
            print(f"reference     {name:6s} nngp  adaptive quadrature: cpu {sec:.3f} s per layer", flush=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "torch_threads": args.threads, "cpu_core": args.cpu_core, "xla_flags": XLA_ONE_THREAD,
            "repeats": args.repeats, "load_average_end": os.getloadavg(),
            "nt_python": str(nt_python) if nt_python else None, "command": " ".join(sys.argv)}
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
