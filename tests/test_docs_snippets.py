"""The commands and code in README.md and docs/*.md run as written after the README's setup.

Every fenced block tagged `bash` is split into commands and each runs with the
set-up environment's `python` and `actlab` first on PATH (plain `actlab ...`
commands and `python` blocks in this very interpreter, which is that environment's,
to spare a torch import per snippet), in a scratch directory
holding links to the repository's folders (so `docs/...`, `benchmarks/...` resolve
and outputs land in the scratch directory); blocks of one file run in order, in one
directory, so a command can use what an earlier one wrote. Every block tagged
`python` runs as a script there. Blocks tagged `text` (synopses with [OPTIONS],
sample output) and untagged blocks are not run. SKIP lists what is too long for
the test suite, each with its reason; everything else must pass.
"""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # python blocks run in this process
ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"^((actlab|python|bash|make|pip|sudo)\s|ACTLAB_\w+=|\. )")
PLAIN_SHELL = re.compile(r"[|;&<>$`]")  # a command with any of these needs a real shell

# (pattern searched in the command or code, reason it is not run here)
SKIP = [
    (r"^make (demo|test)", "runs the quick suites / the whole test suite: minutes, and CI runs `make test` itself"),
    (r"^(python -m venv|\. \.venv|pip install|sudo apt-get)", "the setup itself: these tests run inside it"),
    (r"actlab reproduce", "a suite takes minutes on 2 cores; tests/test_suites.py runs shrunken specs"),
    (r"actlab report runs/reproduce/", "reports the suite run above, which is not run here"),
    (r"actlab report docs/results/finite_width", "the 1/n predictions of 74 sampled points: minutes"),
    (r"actlab bench|benchmarks/", "benchmarks take minutes and are measured, not tested (benchmarks/)"),
    (r"group_slope_accuracy/measure\.py", "the group slope's accuracy table: five CPU-minutes; "
     "tests/test_theory_isotropic.py checks the slope"),
    (r"gpu_check\.sh", "needs a CUDA GPU"),
    (r"train_depth100/run\.sh", "eleven 100-layer training runs, 35 min"),
    (r"model=\"zplane\", depth=100", "trains a 100-layer, width-256 network on Fashion-MNIST: minutes"),
    (r"LogisticRegression", "fits a logistic regression on 4,000 signals: a minute on a busy machine"),
    (r'load\("runs/act-compare"\)', "reads the run directory of the tuned spec above; tests/test_experiments_tune.py covers it"),
    (r"^import timm", "timm cannot be installed beside the CPU torch here (docs/dropin.md, timm)"),
    (r"runs/toy-depth", "reads the run directory of the spec above; tests/test_experiments_* cover load()"),
    (r"random_mlp\('radial_bounding', 256", "Jacobians of width-256 networks: tests/test_theory_finite_width.py"),
    (r"capacity simulate --act relu --K 4 --weights binary --N 48", "an annealing scan: minutes"),
    (r"actlab capacity table", "the whole alpha_c(K) table: 149 s"),
    (r"--reference", "1000 annealing sweeps per instance plus the exact enumeration: minutes"),
    (r"run_study\.sh", "the α½(N) study (K = 1 to N = 1001, K = 3 to N = 999): hours on the shared 2-core machine"),
    (r"capacity geometry --machines (perceptron,)?relu,sign", "Franz–Parisi curves of several machines: minutes; "
                                                              "tests/test_capacity_geometry.py runs small ones"),
    (r"capacity local-entropy --machines perceptron,relu,sign", "annealing at N ≈ 10³, 3 machines × 2 loads × 2 "
                                                                "solvers: 30 min; tests/test_capacity_local_entropy.py "
                                                                "runs a small one"),
    (r"dense_branch_scan", "the local-entropy branch scan: 15 saddle-point curves, minutes"),
]


def _blocks(path: Path) -> list:
    """(language, first line number, text) of every fenced block."""
    blocks, lang, start, body, indent = [], None, 0, [], 0
    for n, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if lang is None and stripped.startswith("```"):
            lang, start, body, indent = stripped[3:].strip() or "-", n, [], len(line) - len(line.lstrip())
        elif lang is not None and stripped.startswith("```"):
            blocks.append((lang, start, "\n".join(body)))
            lang = None
        elif lang is not None:
            body.append(line[indent:])
    return blocks


def _commands(text: str) -> list:
    """Shell commands of a block: lines joined across backslashes and open quotes."""
    commands, pending = [], ""
    for line in text.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        if pending.strip() and not pending.lstrip().startswith("#"):
            commands.append(pending)
        pending = ""
    return commands


def _snippets() -> list:
    found = []
    for path in DOCS:
        for lang, line, text in _blocks(path):
            if lang == "bash":
                found += [(path, line, "bash", c) for c in _commands(text)]
            elif lang == "python":
                found.append((path, line, "python", text))
    return found


# (pattern, files the snippet reads): run where the files are, skipped elsewhere
NEEDS = [(r"fashion_mnist", Path("/usr/share/datasets/fashion-mnist"))]


def _skip_reason(code: str):
    reason = next((reason for pattern, reason in SKIP if re.search(pattern, code, re.M)), None)
    missing = [str(path) for pattern, path in NEEDS if re.search(pattern, code) and not path.exists()]
    return reason or (f"needs {missing[0]} (Debian dataset-fashion-mnist)" if missing else None)


def _scratch(tmp_path_factory, path: Path) -> Path:
    """One scratch directory per document, with links to the repository's folders."""
    folder = tmp_path_factory.getbasetemp() / f"docs-{path.stem}"
    if not folder.exists():
        folder.mkdir()
        for entry in ("src", "docs", "benchmarks", "examples", "tests", "pyproject.toml"):
            if (ROOT / entry).exists():
                (folder / entry).symlink_to(ROOT / entry)
    return folder


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(ROOT / "src")  # this checkout, whichever the environment installed
    env["MPLBACKEND"] = "Agg"
    env.pop("RAY_ADDRESS", None)
    return env


SNIPPETS = _snippets()


def test_every_command_block_is_tagged():
    """A command hidden in an untagged or indented block would escape this test: none may be."""
    untagged = []
    for path in DOCS:
        for lang, line, text in _blocks(path):
            if lang == "-" and COMMAND.match(text.lstrip()):
                untagged.append(f"{path.name}:{line}")
        in_fence, prev_blank = False, True
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip().startswith("```"):
                in_fence = not in_fence
            elif not in_fence and prev_blank and line.startswith("    ") and COMMAND.match(line.strip()):
                untagged.append(f"{path.name}:{n} (indented)")
            prev_blank = not line.strip()
    assert not untagged, f"tag these blocks ```bash (runnable) or ```text (synopsis, output): {untagged}"


def test_no_bare_system_python_in_docs():
    """After the README's setup `python` and `actlab` are the environment's; `python3` may be the system's."""
    bad = [f"{p.name}:{n}" for p in DOCS for n, line in enumerate(p.read_text().splitlines(), 1)
           if re.search(r"PYTHONPATH=src|\bpython3\b", line)]
    assert not bad, bad


def test_the_skip_list_is_used():
    unused = [pattern for pattern, _ in SKIP if not any(re.search(pattern, c, re.M) for *_, c in SNIPPETS)]
    assert not unused, f"SKIP patterns matching nothing (remove them): {unused}"


def test_actlab_is_on_the_path_after_setup(tmp_path):
    r = subprocess.run(["bash", "-c", "actlab list --json > /dev/null && python -c 'import actlab, torch'"],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("path,line,kind,code", [
    pytest.param(*s, id=f"{s[0].name}:{s[1]}:{s[3].split()[0] if s[2] == 'bash' else 'python'}") for s in SNIPPETS])
def test_snippet_runs(tmp_path_factory, monkeypatch, capsys, path, line, kind, code):
    """Python blocks and plain `actlab ...` commands run in this process (the environment's interpreter,
    without paying for a fresh torch import each); anything else runs in bash."""
    reason = _skip_reason(code)
    if reason:
        pytest.skip(reason)
    cwd = _scratch(tmp_path_factory, path)
    monkeypatch.chdir(cwd)
    if kind == "python":
        exec(compile(code, f"{path.name}:{line}", "exec"), {"__name__": "__main__"})
        return
    words = shlex.split(code.replace("\\\n", " "), comments=True)
    if words[0] == "actlab" and not PLAIN_SHELL.search(code.split("#")[0]):
        from actlab.cli import main

        code_ = main(words[1:])
        assert code_ == 0, f"{path.name}:{line} failed: {code}\n{capsys.readouterr().err}"
        return
    r = subprocess.run(["bash", "-c", "set -eo pipefail\n" + code], cwd=cwd, env=_env(), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, f"{path.name}:{line} failed:\n{code}\n--- stderr:\n{r.stderr[-3000:]}"
