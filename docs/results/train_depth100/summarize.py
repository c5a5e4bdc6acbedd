"""Table (Markdown) and combined gradient-norm profile of the depth-100 runs in a directory."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))
from actlab.train.plots import plot_grad_profile  # noqa: E402

here = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
rows, init, end = [], {}, {}
for result_file in sorted(here.glob("*/result.json")):
    r = json.loads(result_file.read_text())
    name, m, p = result_file.parent.name, r["metrics"], r["probes"]
    g0, g1 = list(p["grad_norms_init"].values()), list(p["grad_norms_final"].values())
    fmt = lambda v: "—" if v is None else f"{v:.2e}"  # noqa: E731
    acc = "—" if m.get("test_acc") is None else f"{100 * m['test_acc']:.2f}"
    rows.append(f"| {name} | {r['status']} | {acc} | {fmt(m.get('train_loss'))} | {fmt(g0[0])} | {fmt(g0[-2])} "
                f"| {fmt(g1[0])} | {fmt(g1[-2])} | {m.get('dead_fraction', float('nan')):.3f} | {m['time_s']:.0f} |")
    init[name], end[name] = p["grad_norms_init"], p["grad_norms_final"]
header = ("| run | status | test acc % | train loss | grad ‖layer 1‖ init | grad ‖layer 100‖ init "
          "| grad ‖layer 1‖ end | grad ‖layer 100‖ end | dead fraction | time s |\n|" + "---|" * 10)
table = header + "\n" + "\n".join(rows)
(here / "table.md").write_text(table + "\n")
plot_grad_profile({f"{k} (init)": v for k, v in init.items()}, here / "grad_profile_init.png", "gradient norms at init")
plot_grad_profile({f"{k} (end)": v for k, v in end.items()}, here / "grad_profile_end.png", "gradient norms at the end")
print(table)
