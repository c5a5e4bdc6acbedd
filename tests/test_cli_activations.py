import json
import subprocess
import sys
from pathlib import Path

import actlab


def test_list_json(run_cli):
    code, out, _ = run_cli("list", "--json")
    assert code == 0
    assert {row["name"] for row in json.loads(out)} == set(actlab.list_activations())


def test_show_with_plot(run_cli, tmp_path):
    code, out, _ = run_cli("show", "mrepu(p=3)", "--json", "--plot", str(tmp_path / "m.png"))
    data = json.loads(out)
    assert code == 0 and data["breakpoints"] == [-1.0] and data["slope_at_0"] == 1.0
    assert (tmp_path / "m.png").stat().st_size > 1000


def test_bad_input_is_one_line_and_exit_2(run_cli):
    for args in (["show", "nosuch"], ["show", "zorro(a=-1)"], ["show"], ["fit", "gelu", "--variant", "relu"]):
        code, out, err = run_cli(*args)
        assert code == 2 and err.count("\n") == 1 and "error" in err, (args, err)


def test_help(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0 and "show" in out


def test_gallery(run_cli, tmp_path):
    code, _, _ = run_cli("gallery", "--out", str(tmp_path))
    assert code == 0
    assert len(list(tmp_path.glob("*.png"))) == len(actlab.list_activations())
    assert "zorro" in (tmp_path / "index.md").read_text()


def test_fit_zorro_to_dgelu(run_cli):
    code, out, _ = run_cli("fit", "dgelu", "--variant", "zorro_sigmoid", "--json")
    fit = json.loads(out)
    assert code == 0 and fit["rmse"] < 0.03 and set(fit["affine"]) == {"alpha", "beta", "gamma", "delta"}


def test_fit_accepts_a_callable_and_recovers_a_zorro():

    truth = actlab.get_activation("zorro(a=2.0,b=1.5)")
    fit = actlab.activations.fit_zorro(lambda x: truth(x), "zorro", affine=False)
    assert fit.rmse < 1e-6 and abs(fit.params["a"] - 2.0) < 1e-3 and abs(fit.params["b"] - 1.5) < 1e-3


def test_module_entry_point():
    src = str(Path(actlab.__file__).parents[1])
    r = subprocess.run([sys.executable, "-m", "actlab", "show", "nosuch"], capture_output=True, text=True,
                       env={"PYTHONPATH": src, "PATH": ""})
    assert r.returncode == 2 and r.stderr.startswith("actlab: error: unknown activation")
