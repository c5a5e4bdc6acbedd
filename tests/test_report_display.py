"""What a report shows: every group in the legends, the seed of each listed run, one mark for diverged runs."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from actlab.experiments import parse_spec, run_sweep  # noqa: E402
from actlab.experiments.report import legend_entries, build_report, run_cell, status_marks  # noqa: E402

SPEC = """
name = "marks"
task = "toy"
[base]
epochs = 3
[sweep]
activation = ["relu", "tanh"]
seed = [0, 1]
diverge_at = [0, 2]
"""


def test_legend_lists_groups_of_every_panel():
    fig, axes = plt.subplots(1, 2)
    axes[0].plot([0, 1], label="a")
    axes[1].plot([0, 1], label="b")
    axes[1].plot([0, 1], label="a")
    handles, names = legend_entries(axes.flat, ["a", "b"])
    plt.close(fig)
    assert names == ["a", "b"] and len(handles) == 2


def test_listed_runs_name_their_seed_and_diverged_groups_are_marked(tmp_path):
    run_sweep(parse_spec(SPEC), out=tmp_path, workers=0, progress=False)
    text = build_report(tmp_path).read_text()
    listing = text.split("Diverged runs:")[1]
    assert "| run | activation | diverge_at | seed | step | layer |" in listing
    assert "| 2/2 |" in text and "| 0/2 † |" in text  # a group's n; its diverged runs never averaged in


def test_one_display_for_runs_that_did_not_finish_cleanly():
    assert status_marks(["done", "diverged", "collapsed"]) == " † ‡" and status_marks(["done"]) == ""
    assert run_cell("93.1 %", "done") == "93.1 %" and run_cell("9.84 %", "diverged") == "diverged †"


def test_suite_bar_figures_colour_each_label_alike_in_every_group(tmp_path):
    from actlab.experiments.stats import t_interval
    from actlab.suites.figures import interval_bars

    groups = {"fc": {"relu": t_interval([0.5, 0.6])},
              "cnn": {"zorro": t_interval([0.8, 0.9, 0.85]), "relu": t_interval([0.7, 0.75])}}
    fig_seen = {}
    real_savefig = plt.Figure.savefig

    def spy(fig, *args, **kw):
        ax = fig.axes[0]
        fig_seen["legend"] = [t.get_text() for t in ax.get_legend().get_texts()]
        fig_seen["colours"] = {c.get_label(): {tuple(p.get_facecolor()) for p in c.patches}
                               for c in ax.containers if hasattr(c, "patches")}  # the bars, not their error bars
        return real_savefig(fig, *args, **kw)

    plt.Figure.savefig = spy
    try:
        title, png, csv_name = interval_bars(tmp_path, "f", groups, "t", "acc")
    finally:
        plt.Figure.savefig = real_savefig
    assert fig_seen["legend"] == ["relu", "zorro"]
    assert all(len(c) == 1 for c in fig_seen["colours"].values())  # one colour per label, in every group
    assert fig_seen["colours"]["relu"] != fig_seen["colours"]["zorro"]
    rows = (tmp_path / csv_name).read_text().splitlines()
    assert rows[0] == "group,label,mean,lo,hi,n" and len(rows) == 4 and (tmp_path / png).exists()
