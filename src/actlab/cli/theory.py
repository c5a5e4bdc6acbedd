"""`actlab theory NAME`: critical initialisation, universality class and signal propagation.

NAME is a registry name or spec string ("mrepu(p=3)"), or `module:function` for a
user's Python function importable from the current directory.
"""
from __future__ import annotations

import argparse
import importlib
import math
import os
import sys

from ..activations import get_activation
from ..errors import ActlabError
from ..places import plot_file
from .output import emit


def load_activation(name: str):
    """A registry activation, or `module:function` imported from the current directory."""
    if ":" not in name:
        return get_activation(name)
    module_name, _, attr = name.partition(":")
    if not module_name or not attr.isidentifier():
        raise ActlabError(f"a user function is given as module:function, got {name!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ActlabError(f"cannot import {module_name!r} from the current directory: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ActlabError(f"{module_name}.{attr} is not a callable (a function of a torch tensor)")
    return fn


def _num(v) -> str:
    if v is None:
        return "—"
    return "∞" if v == math.inf else f"{v:.6g}"


def cmd_table(args: argparse.Namespace) -> None:
    """`actlab theory all`: the critical point of every registered activation (Markdown table)."""
    from ..activations import list_activations
    from ..theory import critical_init

    rows = [critical_init(n, width=args.width) for n in list_activations()]
    head = "| activation | class | C_b | C_W | K* | a₁ | b₁ | verdict |\n|---|---|---|---|---|---|---|---|"
    text = "\n".join([head] + [f"| {c.name} | {c.cls} | {_num(c.C_b)} | {_num(c.C_W)} | {_num(c.K_star)} | "
                               f"{_num(c.a1)} | {_num(c.b1)} | {c.verdict} |" for c in rows])
    emit(args, [c.as_dict() for c in rows], text)


def cmd_theory(args: argparse.Namespace) -> None:
    from ..theory import critical_init, kernel_trajectory, susceptibilities
    from ..theory.plot import default_k0

    if args.name == "all":
        return cmd_table(args)
    act = load_activation(args.name)
    if args.plot:
        plot_file(args.plot)
    crit = critical_init(act, width=args.width)
    data: dict = {"name": args.name, "critical": crit.as_dict()}
    lines = [f"{args.name}: class {crit.cls}",
             f"  critical init  C_b = {_num(crit.C_b)}, C_W = {_num(crit.C_W)}, K* = {_num(crit.K_star)}"]
    if crit.cls == "K*=0":
        lines.append(f"  a₁ = {_num(crit.a1)}, b₁ = {_num(crit.b1)}")
    lines.append(f"  depth scale    {_num(crit.depth_scale)}")
    lines.append(f"  verdict        {crit.verdict}")

    C_b = args.cb if args.cb is not None else crit.C_b
    C_W = args.cw if args.cw is not None else crit.C_W
    label = "chosen init" if args.cb is not None or args.cw is not None else "critical"
    if C_W is None:  # no critical point: the init that makes K0 a fixed point (C_b = 0)
        from ..theory import second_moment

        K0 = args.k0 if args.k0 is not None else 1.0
        C_b = 0.0 if C_b is None else C_b
        C_W = (K0 - C_b) / second_moment(act, K0, width=args.width)
        if C_W <= 0:
            raise ActlabError(f"no C_W > 0 makes K0 = {K0:g} a fixed point with C_b = {C_b:g}: give --cw")
        lines.append(f"  (no critical point: showing C_b = {C_b:.6g}, C_W = {C_W:.6g}, which makes K0 a fixed point)")
        label = "K⁽¹⁾ a fixed point"
    C_b = 0.0 if C_b is None else C_b
    K0 = args.k0 if args.k0 is not None else default_k0(crit.cls, crit.K_star, crit.a1, args.depth)
    traj = kernel_trajectory(act, C_b, C_W, K0, args.depth - 1, width=args.width)
    chi = susceptibilities(act, K0, C_W, width=args.width) if K0 > 0 else (None, None)
    data.update(init={"C_b": C_b, "C_W": C_W}, K0=K0, depth=args.depth, trajectory=traj.tolist(),
                chi_at_K0={"parallel": chi[0], "perp": chi[1]})
    lines.append(f"  at C_b = {C_b:.6g}, C_W = {C_W:.6g} from K⁽¹⁾ = {K0:.6g}: "
                 f"χ∥ = {_num(chi[0])}, χ⊥ = {_num(chi[1])}; K⁽{args.depth}⁾ = {_num(float(traj[-1]))}")

    measured = None
    if args.measure:
        from ..theory.finite_width import compare_trajectories

        measured = compare_trajectories(act, C_b, C_W, width=args.measure, depth=args.depth, K0=K0,
                                        n_nets=args.nets, n_explicit=1 if args.plot else 0, seed=args.seed)
        data["measured"] = measured.as_dict()
        diverged = int(measured.kernel_diverged[-1])
        summary = (f"median {measured.kernel_median[-1]:.6g}; {diverged} networks overflowed" if diverged else
                   f"{measured.kernel_measured[-1]:.6g} ± {measured.kernel_error[-1]:.2g}")
        lines.append(f"  measured at width {args.measure} ({args.nets} networks): K⁽{args.depth}⁾ = {summary} "
                     f"(predicted {_num(float(measured.kernel_predicted[-1]))})")
    if args.plot:
        from ..theory.plot import theory_figure

        fig = theory_figure(act, C_b, C_W, K0, args.depth, f"{args.name}: {crit.cls} — {crit.verdict}",
                            K_star=crit.K_star, measured=measured, width=args.width, label=label)
        fig.savefig(args.plot, dpi=150)
        data["plot"] = args.plot
        lines.append(f"  plot           {args.plot}")
    emit(args, data, "\n".join(lines))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def add_commands(sub) -> None:
    p = sub.add_parser("theory", help="critical initialisation and signal propagation of an activation",
                       description="Critical (C_b, C_W), universality class and kernel propagation of an activation "
                                   "(infinite-width theory; --measure compares with random networks).")
    p.add_argument("name", help="registry name, spec string like 'mrepu(p=3)', module:function from the current "
                                "directory, or 'all' for a table of every built-in activation")
    p.add_argument("--depth", type=_positive_int, default=50, help="number of layers (default 50)")
    p.add_argument("--cb", type=float, default=None, help="bias variance C_b (default: the critical one)")
    p.add_argument("--cw", type=float, default=None, help="weight variance C_W (default: the critical one)")
    p.add_argument("--k0", type=float, default=None, help="first-layer kernel K⁽¹⁾ (default: K*, or 1/(2a₁·depth) when marginal, else 1)")
    p.add_argument("--width", type=_positive_int, default=None, help="layer width; required for whole-vector group activations")
    p.add_argument("--measure", type=_positive_int, default=None, metavar="WIDTH",
                   help="also measure the kernel on random networks of this width")
    p.add_argument("--nets", type=_positive_int, default=100, help="networks sampled by --measure (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed for --measure")
    p.add_argument("--plot", default=None, metavar="FILE", help="write the figure (χ vs K, kernel and gradients vs depth)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_theory)
