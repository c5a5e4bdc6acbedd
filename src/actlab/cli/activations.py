"""`actlab list`, `actlab show`, `actlab gallery`, `actlab fit`."""
from __future__ import annotations

import argparse
import math

from ..activations import fit_zorro, get_activation, list_activations
from ..places import plot_file, prepare_dir
from .output import emit


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return "∞" if v == math.inf else "−∞" if v == -math.inf else f"{v:.6g}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return str(v)


def cmd_list(args: argparse.Namespace) -> None:
    rows = [(n, get_activation(n).info) for n in list_activations()]
    data = [{"name": n, "provenance": i.provenance, "formula": i.formula} for n, i in rows]
    width = max(len(n) for n, _ in rows)
    text = "\n".join(f"{n:<{width}}  {i.provenance:<14}  {i.formula}" for n, i in rows)
    emit(args, data, text)


def cmd_show(args: argparse.Namespace) -> None:
    act = get_activation(args.name)
    if args.plot:
        plot_file(args.plot)
    info = act.info
    data = {"repr": repr(act), **info.as_dict()}
    lines = [repr(act)] + [f"  {k:<12} {_fmt(getattr(info, k))}" for k in (
        "formula", "breakpoints", "smoothness", "bounds", "lipschitz", "value_at_0", "slope_at_0",
        "provenance", "source", "group_size")]
    if args.plot:
        from ..viz import plot_activation

        data["plot"] = str(plot_activation(act, args.plot, info=info))
        lines.append(f"  plot         {args.plot}")
    emit(args, data, "\n".join(lines))


def cmd_gallery(args: argparse.Namespace) -> None:
    from ..viz import plot_activation

    out = prepare_dir(args.out, "gallery directory")
    index = ["# Activation gallery", "", "| activation | provenance | formula | plot |", "|---|---|---|---|"]
    written = []
    for name in list_activations():
        act = get_activation(name)
        info = act.info
        written.append(str(plot_activation(act, out / f"{name}.png", info=info)))
        index.append(f"| {name} | {info.provenance} | {info.formula} | ![{name}]({name}.png) |")
    (out / "index.md").write_text("\n".join(index) + "\n")
    emit(args, {"out": str(out), "plots": written}, f"wrote {len(written)} plots and {out / 'index.md'}")


def cmd_fit(args: argparse.Namespace) -> None:
    fit = fit_zorro(args.target, args.variant, (args.low, args.high), affine=not args.no_affine)
    params = ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())
    form = "Z(x)" if fit.affine is None else "α·Z(β·x + γ) + δ with " + ", ".join(
        f"{k}={v:.4g}" for k, v in fit.affine.items())
    emit(args, fit.__dict__, f"{fit.target} ≈ {form} on [{args.low:g}, {args.high:g}], {fit.variant}: {params}  "
         f"(rmse {fit.rmse:.2e}, max error {fit.max_error:.2e})")


def add_commands(sub) -> None:
    p = sub.add_parser("list", help="list the registered activations")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="an activation's properties (and a plot of f and f')")
    p.add_argument("name", help="registry name or spec string, e.g. 'zorro(a=1.5,b=0.8)'")
    p.add_argument("--plot", metavar="FILE", help="write a PNG of f and f'")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("gallery", help="plots of every activation and an index.md")
    p.add_argument("--out", default="gallery", help="output directory (default: gallery)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_gallery)

    p = sub.add_parser("fit", help="least-squares Zorro parameters approximating a target activation")
    p.add_argument("target", help="target activation, e.g. silu, gelu, dgelu")
    p.add_argument("--variant", default="zorro_sloped", help="Zorro variant to fit (default: zorro_sloped)")
    p.add_argument("--low", type=float, default=-4.0, help="interval start (default -4)")
    p.add_argument("--high", type=float, default=4.0, help="interval end (default 4)")
    p.add_argument("--no-affine", action="store_true", help="fit Z(x) itself, without α·Z(β·x + γ) + δ")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_fit)
