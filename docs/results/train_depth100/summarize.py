"""Summarise the depth-100 runs: summary.json, table.md and figures next to this script.

Usage: python3 summarize.py RUNS_DIR   (RUNS_DIR holds one run directory per configuration)
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from actlab.train.plots import plot_grad_profile  # noqa: E402

here = Path(__file__).resolve().parent
runs = Path(sys.argv[1])


def sig(v, digits=4):
    return v if not isinstance(v, float) else float(f"{v:.{digits}g}")


summary, rows = {}, []
for result_file in sorted(runs.glob("*/result.json")):
    r = json.loads(result_file.read_text())
    name, m, p = result_file.parent.name, r["metrics"], r["probes"]
    keep = ("model", "act", "norm", "init", "group_size", "depth", "width", "lr", "epochs", "n_train", "batch_size")
    picked = ("layer 1", "layer 10", "layer 50", "layer 100")
    summary[name] = {
        "config": {k: r["config"][k] for k in keep}, "status": r["status"], "diverged": r["diverged"],
        "metrics": {k: sig(v) for k, v in m.items()},
        "history": [{k: sig(v) for k, v in h.items()} for h in r["history"]],
        # per layer, in the order of "layers" (layer 1 … layer 100, readout)
        "grad_norms_init": [sig(v, 3) for v in p["grad_norms_init"].values()],
        "grad_norms_final": [sig(v, 3) for v in p["grad_norms_final"].values()],
        **{f"{stat}_{when}": {k: sig(src[stat][k], 3) for k in picked}
           for stat in ("effective_rank", "dead_fraction", "orthogonality")
           for when, src in (("init", p["init"]), ("final", p))},
    }
    layers = p["layers"]
    g0, g1 = list(p["grad_norms_init"].values()), list(p["grad_norms_final"].values())
    er0, er1 = p["init"]["effective_rank"]["layer 100"], p["effective_rank"]["layer 100"]
    fmt = lambda v: "—" if v is None else f"{v:.1e}"  # noqa: E731
    acc = " → ".join("—" if h.get("test_acc") is None else f"{100 * h['test_acc']:.1f}" for h in r["history"])
    rows.append(f"| {name} | {r['config']['lr']:g} | {r['status']} | {acc} | {fmt(g0[0])} | {fmt(g0[-2])} "
                f"| {fmt(g1[0])} | {fmt(g1[-2])} | {er0:.1f} → {er1:.1f} | {m['time_s']:.0f} |")
runs_json = ",\n".join(f"  {json.dumps(n)}: {json.dumps(s)}" for n, s in summary.items())  # one run per line
(here / "summary.json").write_text(f'{{\n "layers": {json.dumps(layers)},\n "runs": {{\n{runs_json}\n }}\n}}\n')
table = ("| run | lr | status | test acc % after epochs 1 → 2 → 3 | grad ‖layer 1‖ init | grad ‖layer 100‖ init "
         "| grad ‖layer 1‖ end | grad ‖layer 100‖ end | eff. rank of layer 100, init → end | time s |\n|"
         + "---|" * 10 + "\n" + "\n".join(rows))
(here / "table.md").write_text(table + "\n")

distinct = {}  # runs that differ only in the learning rate share their initial network
for name, s in summary.items():
    distinct.setdefault(tuple(s["grad_norms_init"]), name)
profile = lambda values: dict(zip(layers, values))  # noqa: E731
plot_grad_profile({n: profile(summary[n]["grad_norms_init"]) for n in distinct.values()}, here / "grad_profile_init.png",
                  "per-layer gradient norm at init (100 layers, Fashion-MNIST)")
plot_grad_profile({n: profile(s["grad_norms_final"]) for n, s in summary.items() if s["config"]["lr"] != 1e-3},
                  here / "grad_profile_end.png", "per-layer gradient norm after 3 epochs")
fig, ax = plt.subplots(figsize=(9.5, 4))
for k, (name, s) in enumerate(summary.items()):
    ax.plot([h["epoch"] for h in s["history"]], [100 * h["test_acc"] for h in s["history"]], marker="o",
            ls="-" if s["config"]["lr"] == 3e-4 else "--", label=f"{name}", color=plt.cm.tab20(k % 20))
ax.set_xticks([1, 2, 3])
ax.set_xlabel("epoch"), ax.set_ylabel("test accuracy %")
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
ax.set_title("100-layer networks, Fashion-MNIST (10k train subset)")
fig.tight_layout()
fig.savefig(here / "accuracy.png", dpi=100)
print(table)
