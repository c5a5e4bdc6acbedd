"""Where an activation's share of the CPU MLP step goes:
`python benchmarks/bench_step_breakdown.py [--spec repu] [--threads T] [--dtype float32|bfloat16|float16]
[--depth D] [--batch B] [--repeats R]`.

Times one SGD step, interleaved over shared weights like `actlab bench models`, of the
MLP with each of these activations, as a ratio to the ReLU step:

    relu_function   torch's ReLU inside a bare autograd Function: the cost of any Python Function
    gelu_function   torch's GELU inside the same bare Function
    SPEC_kernels    actlab's compiled CPU kernels for SPEC (fixed parameters) inside the bare Function
    SPEC            actlab's module: the kernels plus actlab's own Python around them

and the microseconds per layer spent inside the forward and backward of the three bare
Functions. SPEC_kernels vs gelu_function compares the kernels; SPEC vs SPEC_kernels is
actlab's wrapper.
"""
import argparse
import os
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from actlab.activations import fused, get_activation  # noqa: E402
from actlab.bench import DTYPES, _denormals_flushed, _interleaved_round, sgd_step  # noqa: E402

inside: dict = defaultdict(float)  # seconds spent in each bare Function's forward / backward


def bare(name: str, forward, backward) -> type[nn.Module]:
    """A module applying an autograd Function that saves its input and times its two halves."""

    class Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            start = time.perf_counter()
            y = forward(x)
            inside[name, "forward"] += time.perf_counter() - start
            return y

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            start = time.perf_counter()
            gx = backward(x, g)
            inside[name, "backward"] += time.perf_counter() - start
            return gx

    return type(name, (nn.Module,), {"forward": lambda self, x: Function.apply(x)})


def compiled_kernels(spec: str, batch: int, width: int, dtype: torch.dtype):
    """actlab's compiled CPU (forward, backward) kernels for spec (an elementwise activation,
    or Radial Bounding on pairs), built by one call on the fused path."""
    x = torch.randn(batch, width, dtype=dtype, requires_grad=True)
    others = dict(fused._compiled)
    fused._compiled.clear()  # so that the kernels compiled (or found in the cache) below are spec's
    with fused.fused_mode("always"):
        get_activation(spec)(x).backward(torch.randn_like(x))
    new = {key[1]: (key, fn) for key, fn in fused._compiled.items()}
    fused._compiled.update(others)
    if "pair value" in new:  # the pair kernels read and write words (fused._pair_words)
        forward, backward = new["pair value"][1], new["pair vjp"][1]
        return (lambda x: forward(fused._pair_words(x))[0].view(x.dtype).view(x.shape),
                lambda x, g: backward(fused._pair_words(x), fused._pair_words(g))[0].view(x.dtype).view(x.shape))
    (grads_key, backward) = new["grads"]
    constants = grads_key[4]  # the parameters' values the kernels were compiled for, or None
    extra = [] if constants else list(get_activation(spec).params())
    if "table value" in new:  # a 16-bit forward with fixed parameters reads a table (fused._value_table)
        lookup, table = new["table value"][1], fused._tables[grads_key[0], dtype, constants]

        def forward(x):
            return lookup(x.reshape(-1), table)[0].view(x.shape)
    else:
        value = new["value"][1]

        def forward(x):
            return value(x.reshape(-1), *extra)[0].view(x.shape)
    return forward, lambda x, g: backward(x.reshape(-1), g.reshape(-1).contiguous(), *extra)[0].view(x.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default="repu",
                        help="an elementwise actlab activation with fixed parameters, or radial_bounding (default repu)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dtype = DTYPES[args.dtype]
    kernel_forward, kernel_backward = compiled_kernels(args.spec, args.batch, args.width, dtype)
    activations = {
        "relu": nn.ReLU,
        "relu_function": bare("relu_function", torch.relu, lambda x, g: torch.ops.aten.threshold_backward(g, x, 0)),
        "gelu_function": bare("gelu_function", nn.functional.gelu, lambda x, g: torch.ops.aten.gelu_backward(g, x)),
        f"{args.spec}_kernels": bare(f"{args.spec}_kernels", kernel_forward, kernel_backward),
        args.spec: lambda: get_activation(args.spec),
    }
    linears = [nn.Linear(args.width, args.width) for _ in range(args.depth)] + [nn.Linear(args.width, 1)]
    for linear in linears:
        linear.to(dtype)
    nets = {name: nn.Sequential(*[m for linear in linears[:-1] for m in (linear, make())], linears[-1])
            for name, make in activations.items()}
    x, target = torch.randn(args.batch, args.width, dtype=dtype), torch.randn(args.batch, 1, dtype=dtype)
    opt = torch.optim.SGD([p for linear in linears for p in linear.parameters()], lr=1e-6)

    def step(name: str) -> tuple[float, bool]:
        return sgd_step(nets[name], x, target, opt)

    with _denormals_flushed():
        for name in nets:  # warm-up, outside the Functions' timers
            for _ in range(2):
                step(name)
        inside.clear()
        rows = _interleaved_round(list(nets), step, args.repeats, 0, lambda name: None)
    print(f"cpu {args.dtype}, MLP depth {args.depth} width {args.width} batch {args.batch}, {args.threads} threads, "
          f"median of {args.repeats} interleaved steps")
    for row in rows:
        per_layer = [inside[row["name"], half] / args.repeats / args.depth * 1e6 for half in ("forward", "backward")]
        timed = "  inside: fwd %6.1f us, bwd %6.1f us per layer" % tuple(per_layer) if any(per_layer) else ""
        print(f"{row['name']:26s} step {row['step_ms']:7.1f} ms  xReLU {row['vs_relu']:.3f}{timed}")


if __name__ == "__main__":
    main()
