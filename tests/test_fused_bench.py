"""`actlab bench activations|models`: tiny sizes, so these check the plumbing, not the speed."""
import json

import pytest

from actlab.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bench_activations_json(capsys, tmp_path):
    code, out, _ = _run(capsys, "bench", "activations", "--size", "2048", "--repeats", "2", "--warmup", "1",
                        "--only", "zorro", "radial_bounding(group_size=None)", "--json")
    assert code == 0
    result = json.loads(out)
    names = [r["name"] for r in result["rows"]]
    assert names == ["copy", "relu", "gelu", "silu", "zorro", "radial_bounding(group_size=None)"]
    gelu = next(r for r in result["rows"] if r["name"] == "gelu")
    assert gelu["fwd_vs_gelu"] == gelu["fwdbwd_vs_gelu"] == 1.0
    for r in result["rows"]:
        assert r["fwd_ms"] > 0 and r["fwdbwd_ms"] > 0 and r["fwdbwd_gbps"] > 0
    zorro = result["rows"][4]
    assert zorro["saved_bytes"] >= result["input_bytes"]  # x, plus the 0-d parameters
    assert zorro["saved_bytes"] < result["input_bytes"] + 64

    path = tmp_path / "bench.json"
    code, out, _ = _run(capsys, "bench", "activations", "--size", "1024", "--repeats", "1", "--warmup", "0",
                        "--only", "mrepu", "--json", str(path))
    assert code == 0 and "xGELU" in out and json.loads(path.read_text())["size"] == 1024


def test_bench_models_text(capsys):
    code, out, _ = _run(capsys, "bench", "models", "--depth", "2", "--width", "16", "--batch", "4", "--repeats", "1",
                        "--rounds", "2", "--warmup", "0", "--only", "mrepu", "radial_bounding")
    assert code == 0
    lines = out.splitlines()
    assert "depth 2 width 16 batch 4" in lines[0]
    assert [line.split()[0] for line in lines[2:]] == ["relu", "mrepu", "radial_bounding"]
    assert float(lines[2].split()[-1]) == 1.0


@pytest.mark.parametrize("argv, message", [
    (["--device", "tpu"], "device must be cpu or cuda"),
    (["--dtype", "int8"], "dtype must be one of"),
    (["--size", "1000"], "multiple of 1024"),
    (["--only", "nosuch"], "unknown activation"),
])
def test_bench_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = _run(capsys, "bench", "activations", "--size", "1024", "--repeats", "1", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_gpu_timing_reads_cuda_events_around_each_queued_call(monkeypatch):
    """On a GPU, time_call takes each call's time from the events around it (no GPU here:
    the events read a clock that each call advances by its own duration, in ms)."""
    import torch

    from actlab import bench

    clock = [0.0]

    class Event:
        def __init__(self, enable_timing):
            assert enable_timing

        def record(self):
            self.at = clock[0]

        def elapsed_time(self, end):
            return end.at - self.at

    durations = iter([9.0, 9.0, 3.0, 1.0, 2.0, 50.0, 4.0])  # two warm-up calls, then five timed ones
    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)

    def call():
        clock[0] += next(durations)

    assert bench.time_call(call, torch.device("cuda"), repeats=5, warmup=2) == pytest.approx(3e-3)


def test_bench_models_marks_a_diverging_network_and_spares_the_others(monkeypatch):
    """The networks share their weights: a step with a non-finite loss re-initialises them,
    so the NaNs of one activation never reach the next one."""
    import torch

    from actlab.activations import registry
    from actlab.bench import bench_models

    class Blowup(torch.nn.Module):
        def forward(self, x):
            return x * 1e30

    monkeypatch.setitem(registry._FACTORIES, "blowup", Blowup)
    result = bench_models(depth=3, width=8, batch=2, repeats=3, warmup=1, names=["blowup", "gelu"])
    finite = {r["name"]: r["finite"] for r in result["rows"]}
    assert finite == {"relu": True, "blowup": False, "gelu": True}


@pytest.mark.parametrize("spec, dtype", [("repu(p=2.5)", "float32"), ("zorro", "bfloat16")])
def test_step_breakdown_script_runs(spec, dtype):
    """benchmarks/bench_step_breakdown.py on a tiny network: one row per variant (a 16-bit
    Zorro with fixed parameters: its forward is the table lookup)."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "bench_step_breakdown.py"), "--spec", spec,
                          "--dtype", dtype, "--depth", "2", "--width", "64", "--batch", "4", "--repeats", "1"],
                         capture_output=True, text=True, timeout=300, check=True).stdout.splitlines()
    assert out[0].startswith(f"cpu {dtype}")
    assert [line.split()[0] for line in out[1:]] == ["relu", "relu_function", "gelu_function", f"{spec}_kernels", spec]
    assert "inside: fwd" in out[4] and "xReLU 1.000" in out[1]
