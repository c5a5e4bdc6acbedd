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


def test_suite_line_figures_label_every_panel_alike(tmp_path):
    from actlab.suites.figures import line_figure

    seen = {}
    real_legend = plt.Figure.legend

    def spy(fig, handles, labels, **kw):
        seen.update(zip(labels, [h.get_color() for h in handles]))
        return real_legend(fig, handles, labels, **kw)

    plt.Figure.legend = spy
    try:
        line_figure(tmp_path, "f", [("fc", {"relu": ([1, 2], [1, 2])}),
                                    ("cnn", {"zorro": ([1, 2], [2, 3]), "relu": ([1, 2], [3, 1])})],
                    "depth", "acc", "t")
    finally:
        plt.Figure.legend = real_legend
    assert list(seen) == ["relu", "zorro"] and seen["relu"] != seen["zorro"]
