"""`actlab capacity theory|table|simulate|extrapolate|geometry|local-entropy`: committee-machine storage capacity and
solution geometry."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from ..errors import ActlabError
from ..places import plot_file, prepare_dir
from ..progress import Progress
from .output import emit


def _alphas(text: str, flag: str = "--alphas") -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ActlabError(f"{flag} must be comma-separated numbers like 0.5,1,1.5, got {text!r}") from None
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise ActlabError(f"{flag} must be positive numbers, got {text!r}")
    return values


def _ints(text: str, flag: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ActlabError(f"{flag} must be comma-separated integers like 2,4,8, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise ActlabError(f"{flag} must be positive integers, got {text!r}")
    return values


def _check_qmc(args) -> None:
    from ..capacity.finite_k import QMC_POINTS, QMC_SCRAMBLES

    args.points = QMC_POINTS if args.points is None else args.points
    args.scrambles = QMC_SCRAMBLES if args.scrambles is None else args.scrambles
    if args.points < 2 or args.scrambles < 2:
        raise ActlabError(f"--points and --scrambles must be >= 2, got {args.points}, {args.scrambles}")


def _theory(args) -> int:
    from ..capacity.replica import alpha_c

    _check_qmc(args)
    if args.samples < 1:
        raise ActlabError(f"--samples must be a positive integer, got {args.samples}")
    est = alpha_c(args.act, args.K, args.weights, args.ansatz, method=args.method, points=args.points,
                  scrambles=args.scrambles, samples=args.samples)
    data = {"activation": args.act, "K": args.K, "weights": args.weights, "ansatz": args.ansatz, **est.as_dict()}
    text = f"alpha_c({args.act}, K={args.K}, {args.weights}, {args.ansatz}) = {est.value:.4f} ± {est.uncertainty:.2g}"
    text += f"  [{est.method}]" + (f"\n{est.message}" if est.message else "")
    emit(args, data, text)
    return 0


def _table(args) -> int:
    import platform
    import time

    from ..capacity.plots import plot_theory_table
    from ..capacity.replica import theory_table

    from ..capacity.binary_tree import MAX_K
    from ..capacity.machine import check_architecture
    from ..capacity.replica import TABLE_BINARY_K, TABLE_RELU_K, TABLE_SIGN_K

    _check_qmc(args)
    relu_K = list(TABLE_RELU_K) if args.relu_K is None else _ints(args.relu_K, "--relu-K")
    sign_K = list(TABLE_SIGN_K) if args.sign_K is None else _ints(args.sign_K, "--sign-K")
    binary_K = list(TABLE_BINARY_K) if args.binary_K is None else _ints(args.binary_K, "--binary-K")

    for K in relu_K:
        check_architecture("relu", K)
    for K in (*sign_K, *binary_K):
        check_architecture("sign", K)
    if max(binary_K) > MAX_K:
        raise ActlabError(f"--binary-K: K up to {MAX_K} (the cost grows as K²), got {max(binary_K)}")
    out = prepare_dir(args.out, "--out directory")
    t0 = time.perf_counter()
    rows_total = len(relu_K) + len(sign_K) + len(binary_K) + 7
    with Progress(rows_total, "alpha_c table", "row") as bar:  # log lines off a terminal
        rows = theory_table(relu_K, sign_K, binary_K, points=args.points, scrambles=args.scrambles,
                            progress=bar.update)
    fields = ["activation", "weights", "ansatz", "K", "alpha_c", "uncertainty", "method"]
    with open(out / "theory_alpha_c.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    plot_theory_table(rows, out / "fig_alpha_c.png")
    seconds = time.perf_counter() - t0
    command = (f"actlab capacity table --out {out} --relu-K {','.join(map(str, relu_K))} "
               f"--sign-K {','.join(map(str, sign_K))} --binary-K {','.join(map(str, binary_K))} "
               f"--points {args.points} --scrambles {args.scrambles}")
    meta = {"command": command, "wall_seconds": round(seconds, 1), "python": platform.python_version(),
            "machine": platform.machine()}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    lines = [f"{r['activation']:<5} {r['weights']:<9} {r['ansatz']:<4} K={str(r['K']):<6} "
             f"{r['alpha_c']:.6f} ± {r['uncertainty']:.1g}" for r in rows]
    lines.append(f"wrote {out / 'theory_alpha_c.csv'}, {out / 'fig_alpha_c.png'} ({seconds:.0f} s)")
    emit(args, {"rows": rows, **meta, "out": str(out)}, "\n".join(lines))
    return 0


def _simulate(args) -> int:
    from ..capacity.empirical import capacity_scan

    try:
        K = int(args.K)
    except ValueError:
        raise ActlabError(f"--K must be a positive integer for simulations, got {args.K!r}") from None
    if args.instances < 1 or args.N < 1 or args.bootstrap < 1:
        raise ActlabError("--N, --instances and --bootstrap must be positive integers")
    alphas = _alphas(args.alphas)
    if args.plot:
        plot_file(args.plot)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ActlabError("--device cuda requested but no CUDA device is available; use --device cpu")
    run = dict(instances=args.instances, patterns=args.patterns, tree=not args.fully_connected, seed=args.seed,
               device=args.device, progress=True, bootstrap=args.bootstrap)
    if args.reference:
        _check_reference(args, K)
    options = _solver_options(args)
    scan = capacity_scan(args.act, K, args.weights, args.N, alphas, solver=args.solver, solver_options=options,
                         **run)
    scan.extra["solver_options"] = options        # what ran, in the JSON: the study groups its cells by it
    scan.extra["seed"] = args.seed                # which instances: `extrapolate` pools one load's cells on distinct seeds
    # the same seed draws the same instances, so the reference is exact instance by instance
    ref = capacity_scan(args.act, K, args.weights, args.N, alphas, solver="exact", **run) if args.reference else None
    lines = [f"{args.act} K={K} {args.weights} N={args.N} solver={args.solver} ({args.instances} instances/α)",
             "alpha   solved  fraction  wilson95" + ("      solvable (exact)" if ref else "")]
    for i, (a, s, f, (lo, hi)) in enumerate(zip(scan.alphas, scan.solved, scan.fractions, scan.wilson())):
        lines.append(f"{a:<7.3g} {s:>6d}  {f:8.3f}  [{lo:.2f}, {hi:.2f}]" + (f"  {ref.solved[i]:>6d}" if ref else ""))
    lo, hi = scan.alpha_half_ci
    lines.append(f"alpha at 50%: {scan.alpha_half:.3f}  (95% CI {lo:.3f}–{hi:.3f}); {scan.seconds:.1f} s solving")
    if ref:
        lines.append(f"exact alpha at 50% (enumeration, same instances): {ref.alpha_half:.3f}")
    if args.plot:
        from ..capacity.plots import plot_scans

        plot_scans([scan] + ([ref] if ref else []), args.plot)
        lines.append(f"plot: {args.plot}")
    emit(args, {**scan.as_dict(), **({"reference": ref.as_dict()} if ref else {})}, "\n".join(lines))
    return 0


def _option_label(solver: str, options: dict | None) -> str:
    if options is None:
        return f"{solver} (options not recorded)"
    text = ", ".join(f"{k}={'–'.join(f'{x:g}' for x in v) if isinstance(v, list) else v}"
                     for k, v in sorted(options.items()))
    return f"{solver} ({text or 'defaults'})"


def _number(value) -> float:
    """A JSON number as written by `emit` (non-finite values are the strings 'nan', 'inf')."""
    return float(value) if value is not None else math.nan


def _study_groups(folder: Path) -> list[dict]:
    """The simulate --json cells in `folder` (and their exact references), grouped by machine, solver and
    options, each group's sizes in order. The cells of one size are pooled and α½ refitted on the union:
    disjoint loads (a finer grid added later), and the counts of one load added up over cells on independent
    instances (distinct recorded --seed)."""
    from ..capacity.empirical import alpha_at_half, wilson_interval

    groups: dict = {}
    seen_exact: set = set()
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "alpha_half" not in data or "solver" not in data:
            continue
        for cell in [data] + ([data["reference"]] if "reference" in data else []):
            machine = f"{cell['activation']} K={cell['K']} {cell['weights']}"
            label = _option_label(cell["solver"], cell.get("solver_options"))
            if cell["solver"] == "exact":                   # references of different scans are different instances
                label = f"exact (enumeration, {cell['instances']} instances per α)"
                same = (cell["N"], tuple(cell["alphas"]), tuple(cell["solved"]), cell.get("seed"))
                if same in seen_exact:                      # two solvers' --reference on the same instances
                    continue
                seen_exact.add(same)
            g = groups.setdefault((machine, label), {"machine": machine, "activation": cell["activation"],
                                                     "K": cell["K"], "weights": cell["weights"], "label": label,
                                                     "solver": cell["solver"], "cells": {}})
            g["cells"].setdefault(cell["N"], []).append(dict(cell, file=path.name))
    out = []
    for g in groups.values():
        rows = []
        for n in sorted(g["cells"]):
            cells = g["cells"][n]
            value, ci = _number(cells[0]["alpha_half"]), [_number(x) for x in cells[0]["alpha_half_ci95"]]
            grid = sorted({a for c in cells for a in c["alphas"]})
            per_load = {a: [(c, s) for c in cells for b, s in zip(c["alphas"], c["solved"]) if b == a] for a in grid}
            solved = [sum(s for _, s in per_load[a]) for a in grid]
            totals = [sum(c["instances"] for c, _ in per_load[a]) for a in grid]
            if len(cells) > 1:
                seeds = [[c.get("seed") for c, _ in runs] for runs in per_load.values()]
                if any(len(ss) > 1 and (None in ss or len(set(ss)) < len(ss)) for ss in seeds):
                    raise ActlabError(f"cannot pool {', '.join(c['file'] for c in cells)}: a load repeated on "
                                      f"instances not known to differ (same or unrecorded --seed)")
                value, ci = alpha_at_half(grid, solved, totals)
            spacing = min((b - a for a, b in zip(grid, grid[1:])), default=0.0)
            loads = [[a, s, b, *wilson_interval(s, b)] for a, s, b in zip(grid, solved, totals)]
            rows.append((n, value, list(ci), sum(c["seconds"] for c in cells), "+".join(c["file"] for c in cells),
                         spacing / math.sqrt(12), loads))
        del g["cells"]
        g.update(dict(zip(["N", "alpha_half", "ci", "seconds", "files", "resolution", "loads"],
                          map(list, zip(*rows)))))
        out.append(g)
    return out


def _rs_capacity(group: dict) -> float | None:
    """The RS capacity drawn beside a machine's α½(N), where `alpha_c` has one (binary: K = 1, sign at odd K, ∞)."""
    from ..capacity.replica import alpha_c

    try:
        return alpha_c(group["activation"], group["K"], group["weights"]).value
    except ActlabError:
        return None


def _extrapolate(args) -> int:
    from ..capacity.empirical import extrapolate_threshold

    folder = Path(args.folder)
    if not folder.is_dir():
        raise ActlabError(f"{folder} is not a directory of `actlab capacity simulate --json` files")
    groups = _study_groups(folder)
    if not groups:
        raise ActlabError(f"no `actlab capacity simulate --json` results in {folder}")
    lines = [f"α½(N) = α∞ + a·N^(−{args.power:g}), fitted on N ≥ {args.min_N} (weighted least squares, "
             f"σ = max(interval/3.92, α-grid spacing/√12))"]
    for g in groups:
        use = [i for i, n in enumerate(g["N"]) if n >= args.min_N]
        try:
            g["fit"] = extrapolate_threshold([g["N"][i] for i in use], [g["alpha_half"][i] for i in use],
                                             [g["ci"][i] for i in use], power=args.power,
                                             floors=[g["resolution"][i] for i in use])
        except ActlabError as exc:
            g["fit"] = None
            g["no_fit"] = str(exc)
        lines.append(f"{g['machine']} {g['label']}")
        for n, v, (lo, hi), loads in zip(g["N"], g["alpha_half"], g["ci"], g["loads"]):
            lines.append(f"  N={n:<5} α½ = {v:.3f} [{lo:.3f}, {hi:.3f}]" if math.isfinite(v) else
                         f"  N={n:<5} α½ not bracketed by the α grid")
            lines.append("         solved: " + ", ".join(f"{s}/{b} at {a:g} [{wl:.2f}, {wh:.2f}]"
                                                          for a, s, b, wl, wh in loads))
        f = g["fit"]
        lines.append(f"  N→∞: α∞ = {f['alpha_inf']:.3f} [{f['alpha_inf_ci95'][0]:.3f}, {f['alpha_inf_ci95'][1]:.3f}], "
                     f"a = {f['slope']:.2f}, χ² = {f['chi2']:.1f} ({f['dof']} dof)" if f else f"  N→∞: {g['no_fit']}")
    out = prepare_dir(args.out, "--out directory") if args.out else None
    if out:
        from ..capacity.plots import plot_alpha_half_vs_N

        with open(out / "alpha_half_vs_N.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["machine", "solver", "N", "alpha_half", "ci95_lo", "ci95_hi", "solver_seconds", "file"])
            for g in groups:
                for n, v, (lo, hi), sec, name in zip(g["N"], g["alpha_half"], g["ci"], g["seconds"], g["files"]):
                    w.writerow([g["machine"], g["label"], n, v, lo, hi, round(sec, 1), name])
        for machine in sorted({g["machine"] for g in groups}):
            mine = [g for g in groups if g["machine"] == machine and any(math.isfinite(v) for v in g["alpha_half"])]
            if len({g["N"][0] for g in mine} | {n for g in mine for n in g["N"]}) < 2:
                continue                                        # one size: nothing to draw against N
            name = "fig_alpha_half_vs_N" + ("" if machine == "sign K=1 binary" else
                                            "_" + machine.replace(" ", "_").replace("=", ""))
            plot_alpha_half_vs_N(mine, out / f"{name}.png", _rs_capacity(mine[0]))
        command = (f"actlab capacity extrapolate {args.folder} --min-N {args.min_N} --power {args.power:g} "
                   f"--out {args.out}")
        (out / "extrapolation.json").write_text(json.dumps({"command": command, "groups": groups}, indent=1) + "\n")
        lines.append(f"wrote {out / 'alpha_half_vs_N.csv'}, the figure(s) and {out / 'extrapolation.json'}")
    emit(args, {"groups": groups}, "\n".join(lines))
    return 0


def _geometry(args) -> int:
    import sys
    import time

    import numpy as np
    from tqdm.auto import tqdm

    from ..capacity.geometry import KINDS, MACHINES, geometry_curves

    machines = [m.strip() for m in args.machines.split(",") if m.strip()]
    bad = [m for m in machines if m not in MACHINES]
    if not machines or bad:
        raise ActlabError(f"--machines takes a comma-separated subset of {', '.join(MACHINES)}, got {args.machines!r}")
    if (args.loads is None) == (args.alphas is None):
        raise ActlabError("give exactly one of --loads (fractions of each machine's RS capacity) or --alphas")
    loads = _alphas(args.loads, "--loads") if args.loads is not None else _alphas(args.alphas)
    if args.loads is not None and any(x >= 1 for x in loads):
        raise ActlabError(f"--loads are fractions of the capacity and must be < 1, got {args.loads!r}")
    if not 0 < args.d_min < 0.5 or args.points < 2:
        raise ActlabError(f"--d-min must be in (0, 0.5) and --points >= 2, got {args.d_min}, {args.points}")
    if args.plot:
        plot_file(args.plot)
    kinds = KINDS if args.kind == "both" else (args.kind,)
    ds = np.geomspace(args.d_min, 0.5, args.points)
    t0 = time.perf_counter()
    bar = tqdm(total=len(machines) * len(loads) * len(kinds), desc="geometry curves", mininterval=1.0,
               file=sys.stderr)
    curves = geometry_curves(machines, loads, ds, kinds=kinds, relative=args.loads is not None,
                             progress=bar.update)
    bar.close()
    seconds = time.perf_counter() - t0
    load_flag = f"--loads {args.loads}" if args.loads is not None else f"--alphas {args.alphas}"
    command = (f"actlab capacity geometry --machines {','.join(machines)} {load_flag} --kind {args.kind} "
               f"--d-min {args.d_min} --points {args.points}")
    lines = []
    for c in curves:
        load = f" ({c.load:g} of capacity)" if c.load is not None else ""
        lines.append(f"{c.kind:<13} {c.machine:<10} alpha={c.alpha:.4f}{load}  [{c.method}; {c.message}]")
        lines.append("  d: " + " ".join(f"{x:8.4f}" for x in c.d))
        lines.append("  S: " + " ".join(f"{x:8.4f}" for x in c.entropy))
    lines.append(f"{len(curves)} curves in {seconds:.0f} s")
    if args.plot:
        from ..capacity.plots import plot_geometry

        plot_geometry(curves, args.plot)
        lines.append(f"plot: {args.plot}")
    emit(args, {"command": command, "wall_seconds": round(seconds, 1), "curves": [c.as_dict() for c in curves]},
         "\n".join(lines))
    return 0


def _floats(text: str, flag: str, lo: float, hi: float) -> list[float]:
    values = _alphas(text, flag)
    if any(not lo < v < hi for v in values):
        raise ActlabError(f"{flag} must lie in ({lo:g}, {hi:g}), got {text!r}")
    return values


def _local_entropy(args) -> int:
    import time

    from ..capacity.dense_regions import SOLVERS, committee, deficit_summary, measure_cell

    machines = [m.strip() for m in args.machines.split(",") if m.strip()]
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    if not machines or any(m not in ("perceptron", "relu", "sign") for m in machines):
        raise ActlabError(f"--machines takes a comma-separated subset of perceptron, relu, sign, got {args.machines!r}")
    if not solvers or any(s not in SOLVERS for s in solvers):
        raise ActlabError(f"--solvers takes a comma-separated subset of {', '.join(SOLVERS)}, got {args.solvers!r}")
    loads = _floats(args.loads, "--loads", 0, 1)
    ds = _floats(args.ds, "--ds", 0, 0.5)
    if args.instances < 2 or args.samples < 1 or args.successes < 1:
        raise ActlabError(f"--instances must be >= 2, --samples and --successes >= 1; got {args.instances}, "
                          f"{args.samples}, {args.successes}")
    if args.plain_sweeps < 1 or args.replicated_sweeps < 1:
        raise ActlabError("--plain-sweeps and --replicated-sweeps must be positive integers")
    specs = []
    for m in machines:
        K = {"perceptron": 1, "relu": args.K_relu, "sign": args.K_sign}[m]
        specs.append((m, K, committee(m, K, K * max(1, round(args.N / K))).N))
    theory = _read_theory(args.theory) if args.theory else []
    if args.plot:
        plot_file(args.plot)
    out = prepare_dir(args.out, "output directory")
    cells_dir = prepare_dir(out / "cells", "cell directory")
    sweeps = {"plain": args.plain_sweeps, "replicated": args.replicated_sweeps}
    todo = [(m, K, N, load, s) for m, K, N in specs for load in loads for s in solvers]
    progress = Progress(len(todo), "local-entropy cells", unit="cell")
    cells, t0 = [], time.perf_counter()
    for m, K, N, load, s in todo:
        path = cells_dir / f"{m}_K{K}_N{N}_load{load:g}_{s}_seed{args.seed}.json"
        cell = json.loads(path.read_text()) if path.exists() else None
        same = cell is not None and cell["instances"] == args.instances and cell["samples"] == args.samples \
            and cell["successes"] == args.successes and cell["options"]["sweeps"] == sweeps[s] \
            and all(any(abs(d - e) < 1e-12 for e in cell.get("entropy", {}).get("d", ds)) for d in ds)
        if not same:   # resume: a finished cell with the same settings is kept, anything else is (re)computed
            cell = measure_cell(m, K, N, load, s, ds, instances=args.instances, seed=args.seed, samples=args.samples,
                                successes=args.successes, solver_options={"sweeps": sweeps[s]})
            path.write_text(json.dumps(cell, indent=1) + "\n")
        cells.append(cell)
        progress.update(counts={"last": f"{m} {load:g} {s}: {sum(cell['solved'])}/{cell['instances']} solved"})
    progress.close()
    seconds = time.perf_counter() - t0
    verdicts = _dense_verdicts(cells, loads, ds, theory)
    command = (f"actlab capacity local-entropy --machines {','.join(machines)} --K-relu {args.K_relu} --K-sign "
               f"{args.K_sign} --N {args.N} --loads {args.loads} --solvers {','.join(solvers)} --instances "
               f"{args.instances} --ds {args.ds} --samples {args.samples} --successes {args.successes} --plain-sweeps "
               f"{args.plain_sweeps} --replicated-sweeps {args.replicated_sweeps} --seed {args.seed}")
    summary = {"command": command, "wall_seconds_this_call": round(seconds, 1),
               "solve_wall_seconds": round(sum(c["solve_seconds"] for c in cells), 1),
               "measure_cpu_seconds": round(sum(c["measure_cpu_seconds"] for c in cells), 1),
               "cells": [{k: v for k, v in c.items() if k != "entropy"} | {"deficit": deficit_summary(c)}
                         for c in cells],
               "verdicts": verdicts}
    (out / "local_entropy_numerics.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = []
    for c in summary["cells"]:
        lines.append(f"{c['machine']:<10} K={c['K']} N={c['N']} load {c['load']:g} (α={c['alpha']:.4f}) {c['solver']:<10} "
                     f"solved {sum(c['solved'])}/{c['instances']}")
        for r in c["deficit"]:
            bar = f"[{r['lo']:.2e}, {r['hi']:.2e}]" if r["kind"] == "mean" else "(lower bound: some p̂ = 0)"
            lines.append(f"    d={r['d']:<6g} D = {r['deficit']:.2e} {bar}  hits {sum(r['hits'])}/{sum(r['draws'])}")
    for v in verdicts:
        lines.append(f"{v['claim']} at load {v['load']:g}, d={v['d']:g}: {v['verdict']} — {v['measured']}"
                     + (f"; theory (K=∞): {v['theory']}" if v.get("theory") else ""))
    if args.plot:
        from ..capacity.plots import plot_dense_regions

        plot_dense_regions(summary["cells"], theory, args.plot)
        lines.append(f"plot: {args.plot}")
    lines.append(f"wrote {out / 'local_entropy_numerics.json'} ({len(cells)} cells, {seconds:.0f} s this call)")
    emit(args, summary, "\n".join(lines))
    return 0


def _read_theory(path: str) -> list[dict]:
    """The curves of an `actlab capacity geometry --json` output."""
    try:
        curves = json.loads(Path(path).read_text())["curves"]
        return [c for c in curves if c["load"] is not None and c["kind"] in ("franz-parisi", "local-entropy")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ActlabError(f"--theory {path}: not a readable `actlab capacity geometry --json` output ({exc})") from None


def _dense_verdicts(cells: list[dict], loads, ds, theory) -> list[dict]:
    """"ReLU's dense regions are denser than sign's" (replicated solutions, D_relu < D_sign) and "replicated
    solutions sit in denser regions than plain ones" (per machine, paired by instance), at each load and d,
    by `experiments.verdicts.judge` over the instances (seeds). Where an instance of the second arm (the one
    claimed less dense) had p̂ = 0, its lower bound enters: that can only make the second arm look denser,
    so a "reproduced" stands and a "contradicted" becomes "inconclusive". p̂ = 0 in the first arm: not measured."""
    from ..capacity.dense_regions import per_instance_deficit, theory_deficit
    from ..experiments.verdicts import judge

    def find(machine, load, solver):
        return next((c for c in cells if c["machine"] == machine and c["load"] == load and c["solver"] == solver), None)

    rows = []
    for load in loads:
        for d in ds:
            pairs = [("ReLU denser than sign (replicated solutions)", find("relu", load, "replicated"),
                      find("sign", load, "replicated"))]
            pairs += [(f"{m}: replicated denser than plain", find(m, load, "replicated"), find(m, load, "plain"))
                      for m in ("perceptron", "relu", "sign")]
            for claim, a, b in pairs:
                if a is None or b is None:
                    continue
                va, vb = per_instance_deficit(a, d), per_instance_deficit(b, d, bounds=True)
                row = {"claim": claim, "load": load, "d": d, "deficit_a": va, "deficit_b": vb}
                bounded = [k for k, v in per_instance_deficit(b, d).items() if not math.isfinite(v)]
                if len(va) < 4 or len(vb) < 4 or not all(math.isfinite(v) for v in va.values()):
                    why = (f"fewer than 4 solved instances ({len(va)}, {len(vb)})" if len(va) < 4 or len(vb) < 4
                           else "an instance of the denser-claimed arm had no solving neighbour (p̂ = 0)")
                    row.update(verdict="not measured", measured=why)
                else:
                    v = judge(va, vb, "<")
                    verdict = v.verdict
                    if bounded and verdict == "contradicted":   # lower bounds only favour the second arm
                        verdict = "inconclusive"
                    note = f" (second arm: lower bounds for {len(bounded)} instances with p̂ = 0)" if bounded else ""
                    row.update(verdict=verdict, measured=f"D {sum(va.values()) / len(va):.3g} vs "
                               f"{sum(vb.values()) / len(vb):.3g}{'+' if bounded else ''}, {v.cell()}{note}", why=v.why)
                if claim.startswith("ReLU") and theory:
                    def fmt(kind: str) -> str:
                        r, s = (theory_deficit(theory, m, kind, load, d) for m in ("relu", "sign"))
                        return " vs ".join("–" if not math.isfinite(x) else f"{x:.2e}" for x in (r, s))
                    row["theory"] = (f"H − S_LE = {fmt('local-entropy')}, H − S_FP = {fmt('franz-parisi')} (ReLU vs "
                                     f"sign; – : off the curve's grid, or H − S_LE < 1e-7 where the branch ends)")
                rows.append(row)
    return rows


def _solver_options(args) -> dict:
    """Budget and schedule flags, each checked against the solver that uses it."""
    given = {"sweeps": args.sweeps, "beta": args.beta, "gamma": args.gamma, "energy": args.energy,
             "max_steps": args.max_steps, "replicas": args.replicas, "lr": args.lr, "fbp_steps": args.fbp_steps,
             "fbp_iters": args.fbp_iters, "fbp_damping": args.fbp_damping, "fbp_protocol": args.fbp_protocol,
             "fbp_init": args.fbp_init}
    fbp = {"fbp_steps", "fbp_iters", "fbp_damping", "fbp_protocol", "fbp_init"}
    uses = {"anneal": {"sweeps", "beta", "energy"}, "gd": {"max_steps", "lr", "beta"},
            "replicated": {"max_steps", "lr", "beta", "replicas", "gamma"},
            "replicated-anneal": {"sweeps", "beta", "gamma", "energy", "replicas"},
            "fbp": fbp, "lp": set(), "exact": set()}[args.solver]
    opts = {}
    for key, value in given.items():
        if value is None:
            continue
        if key not in uses:
            raise ActlabError(f"--{key.replace('_', '-')} does not apply to --solver {args.solver}; "
                              f"it takes: {', '.join('--' + u.replace('_', '-') for u in sorted(uses)) or 'none'}")
        opts[key] = value
    for key in ("beta", "gamma"):
        if key in opts:
            pair = _alphas(opts[key], f"--{key}")
            if len(pair) != 2:
                raise ActlabError(f"--{key} takes two positive numbers START,END, got {opts[key]!r}")
            opts[key] = tuple(pair)
    if args.solver == "replicated" and "gamma" in opts:
        opts["coupling"] = opts.pop("gamma")
    for key in ("sweeps", "max_steps", "replicas", "fbp_steps", "fbp_iters"):
        if key in opts and opts[key] < 1:
            raise ActlabError(f"--{key.replace('_', '-')} must be a positive integer, got {opts[key]}")
    if "lr" in opts and not opts["lr"] > 0:
        raise ActlabError(f"--lr must be positive, got {opts['lr']}")
    if "fbp_damping" in opts and not 0 <= opts["fbp_damping"] < 1:
        raise ActlabError(f"--fbp-damping must be in [0, 1), got {opts['fbp_damping']}")
    if "fbp_init" in opts and not 0 < opts["fbp_init"] < 1:
        raise ActlabError(f"--fbp-init must be in (0, 1), got {opts['fbp_init']}")
    return {key.removeprefix("fbp_"): value for key, value in opts.items()}


def _check_reference(args, K: int) -> None:
    from ..capacity.enumeration import MAX_N
    from ..capacity.machine import CommitteeMachine

    m = CommitteeMachine(args.act, K, args.N, tree=not args.fully_connected)
    if args.weights != "binary" or args.patterns != "pm1" or m.K * m.n > MAX_N:
        raise ActlabError(f"--reference enumerates binary weights on ±1 patterns with at most {MAX_N} weights; "
                          f"got --weights {args.weights} --patterns {args.patterns}, K·n = {m.K * m.n}")


def qmc_args(parser) -> None:
    parser.add_argument("--points", type=int, help="QMC points per scrambling for ReLU K>=4 and the binary sign "
                                                   "tree at K>=13 (rounded to a power of 2; default 16384)")
    parser.add_argument("--scrambles", type=int, help="independent Sobol' scramblings, whose spread is the stated "
                                                      "error (default 16)")


def add_commands(sub) -> None:

    cap = sub.add_parser("capacity", help="storage capacity of committee machines: replica theory and simulations")
    csub = cap.add_subparsers(dest="capacity_command", metavar="SUBCOMMAND", parser_class=type(cap))
    common = dict(act=dict(choices=["relu", "sign"], required=True, help="hidden units: relu (K even) or sign (K odd)"),
                  weights=dict(choices=["spherical", "binary"], default="spherical", help="weight constraint"))

    th = csub.add_parser("theory", help="replica α_c(K) (RS at finite K with a stated error, RS/1RSB at K=inf)")
    th.add_argument("--act", **common["act"])
    th.add_argument("--K", required=True, help="number of hidden units, or 'inf'")
    th.add_argument("--weights", **common["weights"])
    th.add_argument("--ansatz", choices=["rs", "1rsb"], default="rs")
    th.add_argument("--method", choices=["auto", "mc"], default="auto",
                    help="spherical, finite K: auto = exact (K=1, ReLU K=2), order-statistics integral (sign), "
                         "randomised QMC (ReLU K>=4); mc = plain Monte Carlo (cross-check). Binary sign tree: "
                         "symmetric Gauss-Hermite (K<=11), randomised QMC (K>=13)")
    qmc_args(th)
    th.add_argument("--samples", type=int, default=200_000, help="Monte Carlo samples for --method mc")
    th.add_argument("--json", action="store_true", help="machine-readable output")
    th.set_defaults(func=_theory)

    tb = csub.add_parser("table", help="α_c(K) table (CSV) and figure: RS at finite K, RS/1RSB at K=inf")
    tb.add_argument("--out", required=True, metavar="DIR", help="directory for theory_alpha_c.csv, fig_alpha_c.png")
    tb.add_argument("--relu-K", help="comma-separated even K for ReLU (default 2,4,...,128)")
    tb.add_argument("--sign-K", help="comma-separated odd K for sign units (default 1,3,...,10001)")
    tb.add_argument("--binary-K", help="comma-separated odd K for the binary-weight sign tree, RS zero entropy "
                                       "(default 3,5,...,49; K=1 and K=inf are always in)")
    qmc_args(tb)
    tb.add_argument("--json", action="store_true", help="machine-readable output")
    tb.set_defaults(func=_table)

    sim = csub.add_parser("simulate", help="fraction of random instances solved vs α, and α at 50%%")
    sim.add_argument("--act", **common["act"])
    sim.add_argument("--K", required=True, help="number of hidden units")
    sim.add_argument("--weights", **common["weights"])
    sim.add_argument("--N", type=int, required=True, help="number of inputs (a multiple of K for the tree)")
    sim.add_argument("--alphas", required=True, help="comma-separated loads α = P/N, e.g. 0.5,1,1.5")
    sim.add_argument("--instances", type=int, default=32, help="random instances per α (solved as one batch)")
    sim.add_argument("--solver", choices=["gd", "replicated", "anneal", "replicated-anneal", "fbp", "lp", "exact"],
                     default="gd",
                     help="gd (spherical/binary), replicated (robust-ensemble GD, dense-region seeking), anneal "
                          "(binary), replicated-anneal (robust-ensemble annealing, binary), fbp (focusing belief "
                          "propagation, binary, sign units), lp (exact, spherical perceptron), exact "
                          "(enumeration, binary, N <= 34)")
    sim.add_argument("--reference", action="store_true",
                     help="also enumerate the same instances exactly (binary, ±1 patterns, K·n <= 34): "
                          "P(solvable), drawn on the plot as the reference")
    sim.add_argument("--sweeps", type=int, help="anneal: sweeps of K·n proposals; replicated-anneal: sweeps of "
                                                "replicas·K·n proposals (default 200)")
    sim.add_argument("--beta", metavar="START,END",
                     help="anneal: inverse temperature schedule (default 0.5,8); replicated-anneal: (default 0.05,5); "
                          "gd/replicated: "
                          "surrogate sharpness schedule (default per machine)")
    sim.add_argument("--gamma", metavar="START,END",
                     help="replicated-anneal: coupling of the replicas (default 0.05,5); replicated: elastic "
                          "coupling (default 0.01,1); both grow geometrically")
    sim.add_argument("--energy", choices=["errors", "hinge"],
                     help="anneal/replicated-anneal: errors = number of errors (anneal's default), hinge = "
                          "Σ max(0, 1 − y·o) on the integer output field (replicated-anneal's default)")
    sim.add_argument("--max-steps", type=int, help="gd/replicated: optimisation steps (default 2000)")
    sim.add_argument("--lr", type=float, help="gd/replicated: Adam learning rate (default 0.05)")
    sim.add_argument("--replicas", type=int, help="replicated: number of coupled replicas (default 5); "
                                                  "replicated-anneal: odd, >= 3 (default 3)")
    sim.add_argument("--fbp-steps", type=int, help="fbp: focusing steps, ρ = 0, 1/steps, … (default 100)")
    sim.add_argument("--fbp-iters", type=int, help="fbp: at most this many BP iterations per focusing step, fewer "
                                                   "once the messages move by < 1e-3 (default 1)")
    sim.add_argument("--fbp-damping", type=float, help="fbp: message damping in [0, 1) (default 0.5)")
    sim.add_argument("--fbp-protocol", choices=["reinforcement", "pseudo"],
                     help="fbp: focusing protocol, reinforcement (γ = inf, y = 1/(1−ρ), the default) or pseudo "
                          "(γ = atanh √ρ, y = (2−ρ)/(1−ρ))")
    sim.add_argument("--fbp-init", type=float, help="fbp: initial messages atanh(init·U(−1,1)), init in (0, 1) "
                                                    "(default 0.1)")
    sim.add_argument("--patterns", choices=["pm1", "gaussian"], default="pm1")
    sim.add_argument("--fully-connected", action="store_true", help="every hidden unit sees all N inputs")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the α-at-50%% interval")
    sim.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    sim.add_argument("--plot", metavar="FILE", help="write a PNG of P(solved) vs α")
    sim.add_argument("--json", action="store_true", help="machine-readable output; besides the counts it records "
                                                         "each instance's outcome and solver steps per load "
                                                         "(instance_solved, instance_steps) and cpu_seconds")
    sim.set_defaults(func=_simulate)

    ex = csub.add_parser("extrapolate", help="α½(N) of a folder of `simulate --json` results, per solver, "
                                             "extrapolated to N = ∞ (table, figure); the solved counts of each "
                                             "load, pooled over cells, with Wilson 95%% intervals")
    ex.add_argument("folder", help="directory of `actlab capacity simulate ... --json` outputs (one per size)")
    ex.add_argument("--min-N", type=int, default=1, help="fit only sizes N >= this (default: all)")
    ex.add_argument("--power", type=float, default=0.5, help="fit form α∞ + a·N^(−power) (default 0.5)")
    ex.add_argument("--out", metavar="DIR", help="write alpha_half_vs_N.csv, fig_alpha_half_vs_N.png and "
                                                 "extrapolation.json there")
    ex.add_argument("--json", action="store_true", help="machine-readable output")
    ex.set_defaults(func=_extrapolate)

    geo = csub.add_parser("geometry", help="solution-space geometry, binary weights, RS: Franz–Parisi entropy and "
                                           "large-deviation local entropy S(d) (perceptron, ReLU/sign at K=inf)")
    geo.add_argument("--machines", default="relu,sign",
                     help="comma-separated: perceptron, relu, sign (default relu,sign)")
    geo.add_argument("--loads", help="comma-separated loads as fractions (< 1) of each machine's RS binary capacity, "
                                     "e.g. 0.3,0.6,0.85")
    geo.add_argument("--alphas", help="comma-separated absolute loads α = P/N (instead of --loads)")
    geo.add_argument("--kind", choices=["both", "franz-parisi", "local-entropy"], default="both")
    geo.add_argument("--d-min", type=float, default=0.003, help="smallest Hamming distance of the grid (default 0.003)")
    geo.add_argument("--points", type=int, default=16, help="grid points, geometric from --d-min to 0.5 (default 16)")
    geo.add_argument("--plot", metavar="FILE", help="write a PNG of the curves")
    geo.add_argument("--json", action="store_true", help="machine-readable output")
    geo.set_defaults(func=_geometry)

    le = csub.add_parser("local-entropy", help="the local entropy measured around solutions of plain and replicated "
                                               "annealing at N ≈ 10³ (binary weights), theory beside it, verdicts")
    le.add_argument("--machines", default="perceptron,relu,sign",
                    help="comma-separated: perceptron, relu, sign (default all three)")
    le.add_argument("--K-relu", type=int, default=8, help="hidden units of the ReLU tree (even, default 8)")
    le.add_argument("--K-sign", type=int, default=7, help="hidden units of the sign tree (odd, default 7)")
    le.add_argument("--N", type=int, default=1001, help="inputs; each machine uses K·round(N/K) (default 1001)")
    le.add_argument("--loads", default="0.3", help="fractions (< 1) of each machine's RS binary capacity at K = ∞ "
                                                   "(default 0.3)")
    le.add_argument("--solvers", default="plain,replicated",
                    help="plain (anneal) and/or replicated (replicated-anneal), default both")
    le.add_argument("--instances", type=int, default=4, help="random problems (= seeds) per cell (default 4)")
    le.add_argument("--ds", default="0.005,0.01,0.02,0.05,0.1", help="Hamming distances d (fractions of N)")
    le.add_argument("--samples", type=int, default=200_000, help="most draws of dN flips per solution and d")
    le.add_argument("--successes", type=int, default=400, help="stop drawing at this many solving neighbours")
    le.add_argument("--plain-sweeps", type=int, default=3000, help="anneal budget, sweeps of N proposals")
    le.add_argument("--replicated-sweeps", type=int, default=1000, help="replicated-anneal budget, sweeps of 3N")
    le.add_argument("--seed", type=int, default=0)
    le.add_argument("--theory", metavar="JSON", help="an `actlab capacity geometry --json` output to draw and quote "
                                                     "beside the numerics (its loads must match --loads)")
    le.add_argument("--out", required=True, metavar="DIR",
                    help="writes cells/*.json (one per machine, load, solver: reused when rerun with the same "
                         "settings) and local_entropy_numerics.json")
    le.add_argument("--plot", metavar="FILE", help="write the joint figure (theory curves, numerics with 95 %% bars)")
    le.add_argument("--json", action="store_true", help="machine-readable output")
    le.set_defaults(func=_local_entropy)
