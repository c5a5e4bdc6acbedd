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


def cmd_phase(args: argparse.Namespace, act, crit) -> None:
    """`actlab theory NAME --phase`: ξ_c over a (C_W, C_b) grid and the order-to-chaos line."""
    import numpy as np

    from ..theory.depth import order_chaos_line, scales_grid

    centre = crit.C_W if crit.C_W else 1.0
    C_W = np.geomspace(centre / 4, args.cw_max or 4 * centre, args.grid)
    cb_max = args.cb_max if args.cb_max is not None else (0.2 / args.width if whole_vector(act) else 0.5)
    C_b = np.linspace(0.0, cb_max, max(3, args.grid // 2 + 1))
    grid = scales_grid(act, C_b[None, :], C_W[:, None], width=args.width)
    line_C_b = np.linspace(0.0, cb_max, 41)
    line_C_W = order_chaos_line(act, line_C_b, width=args.width)
    clean = lambda a: [[None if not np.isfinite(v) else float(v) for v in row] for row in a]  # noqa: E731
    data = {"name": args.name, "C_W": C_W.tolist(), "C_b": C_b.tolist(),
            "phase": grid["phase"].tolist(), "q_star": clean(grid["q_star"]), "c_star": clean(grid["c_star"]),
            "chi_1": clean(grid["chi_1"]), "xi_q": clean(grid["xi_q"]), "xi_c": clean(grid["xi_c"]),
            "order_chaos_line": {"C_b": line_C_b.tolist(), "C_W": [None if not np.isfinite(v) else float(v)
                                                                  for v in line_C_W]},
            "index": "arrays are [C_W index][C_b index]"}
    lines = [f"{args.name}: phase diagram over C_W ∈ [{C_W[0]:.4g}, {C_W[-1]:.4g}] ({len(C_W)} points), "
             f"C_b ∈ [0, {cb_max:g}] ({len(C_b)} points)" + (f", width {args.width} (leading order in 1/n)"
                                                              if whole_vector(act) else ""),
             "  order-to-chaos line (χ₁ = 1):  " + ", ".join(
                 f"C_b = {b:.3g}: C_W = {_num(w) if np.isfinite(w) else '—'}" for b, w in
                 zip(line_C_b[::10], line_C_W[::10]))]
    counts = {ph: int((grid["phase"] == ph).sum()) for ph in ("ordered", "chaotic", "critical", "unbounded")}
    lines.append("  grid points: " + ", ".join(f"{n} {ph}" for ph, n in counts.items()))
    if args.plot:
        from ..theory.plot import phase_figure

        fig = phase_figure(args.name, C_W, C_b, grid, line_C_b, line_C_W, depth=args.depth)
        fig.savefig(args.plot, dpi=150)
        data["plot"] = args.plot
        lines.append(f"  plot           {args.plot}")
    emit(args, data, "\n".join(lines))


def whole_vector(act) -> bool:
    """Whether `act` is a group activation on the whole feature vector (group_size 0 / None)."""
    return getattr(getattr(act, "info", None), "group_size", None) == 0


def cmd_theory(args: argparse.Namespace) -> None:
    from ..theory import critical_init, kernel_trajectory, susceptibilities
    from ..theory.plot import default_k0

    if args.name == "all":
        return cmd_table(args)
    act = load_activation(args.name)
    if args.plot:
        plot_file(args.plot)
    crit = critical_init(act, width=args.width)
    if args.phase:
        return cmd_phase(args, act, crit)
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
    if K0 > 0:
        lines += finite_width_lines(act, C_b, C_W, K0, args, measured, data)
    answer = plain_answer(act, crit, C_b, C_W, K0, args.depth, label, args.width)
    if answer is not None:
        data["answer"] = answer
        lines.append(f"  answer         {answer['text']}")
    if args.plot:
        from ..theory.plot import theory_figure

        fig = theory_figure(act, C_b, C_W, K0, args.depth, f"{args.name}: {crit.cls} — {crit.verdict}",
                            K_star=crit.K_star, measured=measured, width=args.width, label=label)
        fig.savefig(args.plot, dpi=150)
        data["plot"] = args.plot
        lines.append(f"  plot           {args.plot}")
    emit(args, data, "\n".join(lines))


def _count(n: int) -> str:
    return f"{n:,}" if n < 10 ** 9 else f"{n:.3g}"


def _pct(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{100 * v:+.3g} %"


def finite_width_lines(act, C_b: float, C_W: float, K0: float, args: argparse.Namespace, measured, data: dict) -> list[str]:
    """The 1/n theory at the last layer (actlab.theory.fluctuations): the width that keeps the
    kernel's relative fluctuation (and its mean shift) under --accuracy, and with --measure the
    predicted mean and variance of K̂ beside the measured ones."""
    from ..theory.fluctuations import finite_width_prediction

    L, acc = args.depth, args.accuracy
    p = finite_width_prediction(act, C_b, C_W, K0, L, args.measure or args.width or 1)
    need = p.width_for(acc)
    data["finite_width"] = {"accuracy": acc, "width_for": need}
    if need["fluctuation"] is None:
        return ["  finite width   the 1/n theory's coefficients overflow by this depth: fluctuations grow "
                "exponentially, no practical width keeps them small"]
    lines = [f"  finite width   for depth {L}, width ≥ {_count(need['fluctuation'])} keeps the kernel's relative "
             f"fluctuation √Var K̂/K under {100 * acc:g} % (and width ≥ {_count(need['shift'])} its mean shift under "
             f"{100 * acc:g} %) — 1/n theory, V⁽ᴸ⁾/K² = {p.vertex[-1] / p.kernel[-1] ** 2:.4g}"]
    if measured is None:
        return lines
    data["finite_width"]["prediction"] = p.as_dict()
    n = args.measure
    expansion = float(p.vertex[-1] / (n * p.kernel[-1] ** 2))
    lines.append(f"  at width {n}: L/n = {L / n:.3g}, expansion parameter V/(nK²) = {expansion:.3g} "
                 f"({'small: the 1/n theory should hold' if expansion < 0.1 else 'not small: expect higher orders'})")
    K, meas = float(p.kernel[-1]), float(measured.kernel_measured[-1])
    lines.append(f"    mean K̂⁽{L}⁾   infinite width {K:.6g} | 1/n theory {float(p.mean[-1]):.6g} "
                 f"({_pct(float(p.relative_shift[-1]))}) | measured {meas:.6g} ± {float(measured.kernel_error[-1]):.2g} "
                 f"({_pct(meas / K - 1)})")
    lines.append(f"    Var K̂⁽{L}⁾    infinite width 0 | 1/n theory {float(p.variance[-1]):.4g} "
                 f"(relative fluctuation {100 * float(p.relative_fluctuation[-1]):.3g} %) | measured "
                 f"{float(measured.kernel_variance_measured[-1]):.4g} ± {float(measured.kernel_variance_error[-1]):.2g}")
    lines.append(f"    excess kurtosis of z⁽{L}⁾: 1/n theory {float(p.kurtosis[-1]):.3g}")
    return lines


def plain_answer(act, crit, C_b: float, C_W: float, K0: float, depth: int, label: str, width) -> "dict | None":
    """The init to use, its depth scale, and whether `depth` is inside it (for a whole-vector
    group activation at the layer width, leading order in 1/n)."""
    from ..theory.depth import depth_scales, depth_verdict

    here = depth_scales(act, C_b, C_W, q0=K0, width=width)
    text = depth_verdict(here, depth)
    if crit.cls == "K*=0" and crit.a1 and crit.a1 > 0 and label == "critical":  # marginal: 1/K⁽ˡ⁾ ≈ 1/K⁽¹⁾ − a₁l
        blow_up = 1 / (crit.a1 * K0)
        text = (f"marginal: the kernel grows and blows up near depth 1/(a₁K⁽¹⁾) = {blow_up:.4g}: depth {depth} is "
                f"{'inside' if depth < blow_up else 'beyond'} it")
    if label == "chosen init" and crit.C_W is not None and here.phase != "critical":
        text += f"; the critical init C_b = {crit.C_b:.6g}, C_W = {crit.C_W:.6g} has ξ_c = ∞"
    head = (f"use C_b = {C_b:.6g}, C_W = {C_W:.6g} ({label}, K⁽¹⁾ = {K0:.4g}): "
            if label != "chosen init" else f"at C_b = {C_b:.6g}, C_W = {C_W:.6g}: ")
    if crit.cls == "none":
        head = f"no init is critical; {head}"
    return {"text": head + text, "depth_scales": here.as_dict()}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {value}")
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
    p.add_argument("--width", type=_positive_int, default=None,
                   help="layer width n; required for whole-vector group activations such as "
                        "'radial_bounding(group_size=None)', whose two-input kernel and depth scales are "
                        "leading order in 1/n")
    p.add_argument("--measure", type=_positive_int, default=None, metavar="WIDTH",
                   help="also measure the kernel on random networks of this width")
    p.add_argument("--nets", type=_positive_int, default=100, help="networks sampled by --measure (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed for --measure")
    p.add_argument("--accuracy", type=_fraction, default=0.1,
                   help="relative accuracy for the width recommendation of the 1/n theory (default 0.1)")
    p.add_argument("--plot", default=None, metavar="FILE", help="write the figure (χ vs K, kernel and gradients vs depth)")
    p.add_argument("--phase", action="store_true",
                   help="the (C_W, C_b) phase diagram: ξ_c on a grid and the order-to-chaos line (--plot draws it)")
    p.add_argument("--grid", type=_positive_int, default=25, help="--phase: C_W points (C_b gets half; default 25)")
    p.add_argument("--cb-max", type=float, default=None,
                   help="--phase: largest C_b (default 0.5; 0.2/width for a whole-vector group activation, whose "
                        "depth scale depends on width·C_b/C_W: ξ_c from ∞ down to 5.5 layers at C_W = 1)")
    p.add_argument("--cw-max", type=float, default=None, help="--phase: largest C_W (default 4 × the critical C_W, or 4)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_theory)
