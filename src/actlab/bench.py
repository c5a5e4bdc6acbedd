"""Performance benchmarks of the activations: one kernel each, and a deep MLP step.

`bench_activations`: forward and forward+backward time of each activation on one
tensor of `size` elements (rows of 1024 features), median of `repeats` after
`warmup` calls, next to torch's native GELU and a plain copy timed in the same run:

    effective GB/s   minimal traffic / time: forward reads x and writes y (2 tensors),
                     forward+backward also reads x and g and writes grad_x (5 tensors)
    vs_gelu          time / GELU's time (the CPU target: fwd+bwd <= 1.5)
    copy_fraction    GB/s / the copy's GB/s (the GPU target: >= 0.95)
    saved_bytes      bytes kept for backward (saved-tensor hooks)

`bench_models`: one SGD training step (forward, MSE loss, backward, update) of a
`depth`-layer MLP of width `width`, each hidden layer Linear → activation, and its
ratio to the same network with ReLU (the target: <= 1.1).
"""
from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

import torch
from torch import nn

from .activations import get_activation
from .errors import ActlabError

ACTIVATIONS = ("radial_bounding", "radial_bounding(group_size=None)", "repu", "mrepu", "zorro",
               "zorro_asymmetric", "zorro_sigmoid", "zorro_tanh", "zorro_sloped")
BASELINES = ("relu", "gelu", "silu")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
ROW = 1024  # features per row: the whole-vector Radial Bounding reduces over it


def resolve(device: str, dtype: str) -> tuple[torch.device, torch.dtype]:
    """Validate the device and dtype names."""
    if device not in ("cpu", "cuda"):
        raise ActlabError(f"device must be cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ActlabError("device cuda requested but no CUDA device is available; use --device cpu")
    if dtype not in DTYPES:
        raise ActlabError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return torch.device(device), DTYPES[dtype]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_call(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> float:
    """Median seconds of fn() over `repeats` calls after `warmup` calls.

    On a GPU the calls are queued back to back, each between two CUDA events: while the
    GPU runs call i, the host's Python prepares call i + 1, so a call's time is the
    GPU's (what a bandwidth measures), not the host's latency before its first kernel,
    wherever the kernels outlast that Python (large tensors). Where they do not, the
    GPU waits between the events and the host's time shows, as it would in use."""
    for _ in range(warmup):
        fn()
    _sync(device)
    if device.type == "cuda":
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                  for _ in range(repeats)]
        for start, end in events:
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        return statistics.median(start.elapsed_time(end) for start, end in events) / 1e3
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def saved_bytes(module: nn.Module, x: torch.Tensor) -> int:
    """Bytes the module's forward keeps for backward."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x.detach().requires_grad_(True))
    return total


def _module(spec: str) -> nn.Module:
    return nn.Identity() if spec == "copy" else get_activation(spec)


def _median_rows(rounds: list[list[dict]]) -> list[dict]:
    """Per activation, the median over rounds of every number (ratios were taken within each
    round); a flag holds if it held in every round."""
    def combine(i: int, key: str, first):
        if isinstance(first, str):
            return first
        if isinstance(first, bool):
            return all(r[i][key] for r in rounds)
        return statistics.median(r[i][key] for r in rounds)

    return [{k: combine(i, k, v) for k, v in row.items()} for i, row in enumerate(rounds[0])]


def bench_activations(device: str = "cpu", dtype: str = "float32", size: int = 1 << 22, repeats: int = 20,
                      warmup: int = 3, threads: Optional[int] = None, names: Sequence[str] = ACTIVATIONS,
                      rounds: int = 1, progress: Callable[[str], None] = lambda name: None) -> dict:
    """Time each activation and the GELU / copy references on one tensor (see module docstring).
    With rounds > 1 the whole sweep repeats and each figure is the median over rounds
    (robust on a shared machine)."""
    dev, dt = resolve(device, dtype)
    if size < ROW or size % ROW:
        raise ActlabError(f"size must be a positive multiple of {ROW}, got {size}")
    if rounds < 1 or repeats < 1 or warmup < 0:
        raise ActlabError("rounds and repeats must be >= 1, warmup >= 0")
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = (torch.randn(size // ROW, ROW, device=dev) * 2).to(dt)
    xg = x.detach().clone().requires_grad_(True)
    g = torch.randn_like(x)
    itemsize = x.element_size()
    modules = {spec: _module(spec).to(dev) for spec in ("copy", *BASELINES, *names)}  # bad names fail first
    all_rounds = []
    for _ in range(rounds):
        rows = []
        for spec, module in modules.items():
            progress(spec)
            if spec == "copy":
                fwd = time_call(lambda: x.clone(), dev, repeats, warmup)
                fwdbwd = fwd * 5 / 2  # the same traffic as fwd+bwd, at copy speed
            else:
                with torch.no_grad():
                    fwd = time_call(lambda: module(x), dev, repeats, warmup)

                def step():
                    module(xg).backward(g)
                    xg.grad = None

                fwdbwd = time_call(step, dev, repeats, warmup)
            rows.append(dict(name=spec, fwd_ms=fwd * 1e3, fwdbwd_ms=fwdbwd * 1e3,
                             fwd_gbps=2 * size * itemsize / fwd / 1e9, fwdbwd_gbps=5 * size * itemsize / fwdbwd / 1e9,
                             saved_bytes=0 if spec == "copy" else saved_bytes(module, x)))
        ref = {r["name"]: r for r in rows}
        for r in rows:
            for phase in ("fwd", "fwdbwd"):
                r[f"{phase}_vs_gelu"] = r[f"{phase}_ms"] / ref["gelu"][f"{phase}_ms"]
                r[f"{phase}_copy_fraction"] = r[f"{phase}_gbps"] / ref["copy"][f"{phase}_gbps"]
        all_rounds.append(rows)
    return dict(device=str(dev), dtype=dtype, size=size, threads=torch.get_num_threads(), repeats=repeats,
                rounds=rounds, input_bytes=size * itemsize, rows=_median_rows(all_rounds))


def mlp(activation: str, linears: Sequence[nn.Linear]) -> nn.Sequential:
    """Linear → activation for each hidden layer of `linears`, then the last (output) layer."""
    layers: list[nn.Module] = []
    for linear in linears[:-1]:
        layers += [linear, get_activation(activation)]
    return nn.Sequential(*layers, linears[-1])


def bench_models(device: str = "cpu", dtype: str = "float32", depth: int = 100, width: int = 1024, batch: int = 64,
                 repeats: int = 5, warmup: int = 2, threads: Optional[int] = None,
                 names: Sequence[str] = ("relu", "gelu", *ACTIVATIONS), rounds: int = 1,
                 progress: Callable[[str], None] = lambda name: None) -> dict:
    """One training step per activation, and its ratio to the ReLU network's step.

    Every network uses the same Linear layers (one copy of the weights, whatever the
    number of activations), and the timed steps are interleaved (step r of every
    network, then step r + 1), so slow drifts of the machine and the placement of the
    weights in memory weigh on every activation alike. A step whose loss is not finite
    marks that activation `finite: False` and re-initialises the shared weights, so
    that its NaNs do not reach the next network. With rounds > 1: the median over
    rounds of each round's figures."""
    dev, dt = resolve(device, dtype)
    if min(depth, width, batch) < 1:
        raise ActlabError("depth, width and batch must be positive")
    if rounds < 1 or repeats < 1 or warmup < 0:
        raise ActlabError("rounds and repeats must be >= 1, warmup >= 0")
    if threads is not None:
        torch.set_num_threads(threads)
    names = ("relu", *[n for n in names if n != "relu"])
    for spec in names:  # bad names fail before any timing
        get_activation(spec)
    torch.manual_seed(0)
    x = torch.randn(batch, width, device=dev, dtype=dt)
    target = torch.randn(batch, 1, device=dev, dtype=dt)
    linears = [nn.Linear(width, width) for _ in range(depth)] + [nn.Linear(width, 1)]
    for linear in linears:
        linear.to(dev, dt)
    nets = {spec: mlp(spec, linears).to(dev, dt) for spec in names}
    opt = torch.optim.SGD([p for linear in linears for p in linear.parameters()], lr=1e-6)

    def reinitialise() -> None:
        torch.manual_seed(0)
        for linear in linears:
            linear.reset_parameters()

    def step(spec: str) -> tuple[float, bool]:
        """sgd_step on spec's network; a non-finite loss reinitialises the weights."""
        seconds, finite = sgd_step(nets[spec], x, target, opt)
        if not finite:
            reinitialise()
        return seconds, finite

    all_rounds = []
    with _denormals_flushed():
        for _ in range(rounds):
            all_rounds.append(_interleaved_round(names, step, repeats, warmup, progress))
    return dict(device=str(dev), dtype=dtype, depth=depth, width=width, batch=batch,
                threads=torch.get_num_threads(), repeats=repeats, rounds=rounds, rows=_median_rows(all_rounds))


def sgd_step(net: nn.Module, x: torch.Tensor, target: torch.Tensor, opt: torch.optim.Optimizer) -> tuple[float, bool]:
    """(seconds, whether the loss is finite) of one SGD step on the MSE loss. Gradients are
    zeroed in place: fresh gradient buffers every step made step times jump between two
    levels whatever the activation (docs/performance.md)."""
    start = time.perf_counter()
    opt.zero_grad(set_to_none=False)
    loss = (net(x) - target).square().mean()
    loss.backward()
    opt.step()
    _sync(x.device)
    return time.perf_counter() - start, bool(torch.isfinite(loss))


def _interleaved_round(names: Sequence[str], step: Callable[[str], tuple[float, bool]], repeats: int, warmup: int,
                       progress: Callable[[str], None]) -> list[dict]:
    """Warm every network up, then time step r of every network before step r + 1."""
    times: dict[str, list[float]] = {spec: [] for spec in names}
    finite = dict.fromkeys(names, True)
    for spec in names:
        progress(spec)
        for _ in range(warmup):
            finite[spec] &= step(spec)[1]
    for _ in range(repeats):
        for spec in names:
            seconds, ok = step(spec)
            times[spec].append(seconds)
            finite[spec] &= ok
    # the ratio of each step to the ReLU step of the same repeat, then the median: a slow
    # spell of the machine during one repeat cancels out
    return [dict(name=spec, step_ms=statistics.median(t) * 1e3,
                 vs_relu=statistics.median(a / b for a, b in zip(t, times["relu"])), finite=finite[spec])
            for spec, t in times.items()]


@contextmanager
def _denormals_flushed() -> Iterator[None]:
    """Denormal floats flushed to zero on the CPU: a network whose signal vanishes (RePU at
    depth 100) would otherwise be timed on the slow path of denormal arithmetic in its
    matmuls, which says nothing about its activation."""
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


def format_activations(result: dict) -> str:
    head = (f"{result['device']} {result['dtype']}, {result['size']} elements, {result['threads']} threads, "
            f"median of {result['repeats']} calls, median over {result['rounds']} rounds")
    lines = [head, f"{'activation':34s} {'fwd ms':>8s} {'GB/s':>6s} {'xGELU':>6s} {'xcopy':>6s}   "
                   f"{'f+b ms':>8s} {'GB/s':>6s} {'xGELU':>6s} {'xcopy':>6s}  {'saved':>6s}"]
    for r in result["rows"]:
        lines.append(f"{r['name']:34s} {r['fwd_ms']:8.3f} {r['fwd_gbps']:6.2f} {r['fwd_vs_gelu']:6.2f} "
                     f"{r['fwd_copy_fraction']:6.2f}   {r['fwdbwd_ms']:8.3f} {r['fwdbwd_gbps']:6.2f} "
                     f"{r['fwdbwd_vs_gelu']:6.2f} {r['fwdbwd_copy_fraction']:6.2f}  "
                     f"{r['saved_bytes'] / result['input_bytes']:5.2f}x")
    lines.append("xGELU: time / GELU's time; xcopy: GB/s / copy's GB/s; saved: bytes kept for backward / input bytes")
    return "\n".join(lines)


def format_models(result: dict) -> str:
    lines = [f"{result['device']} {result['dtype']}, MLP depth {result['depth']} width {result['width']} "
             f"batch {result['batch']}, {result['threads']} threads, median of {result['repeats']} steps, "
             f"median over {result['rounds']} rounds (steps interleaved, shared weights)",
             f"{'activation':34s} {'step ms':>9s} {'xReLU':>6s}"]
    lines += [f"{r['name']:34s} {r['step_ms']:9.1f} {r['vs_relu']:6.3f}" + ("" if r["finite"] else "  loss not finite")
              for r in result["rows"]]
    return "\n".join(lines)
