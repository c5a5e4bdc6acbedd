"""Reproduction suites: shipped specs plus claims computed from their results.

A suite NAME is a set of spec files `NAME_<profile>.toml` (profiles `quick`:
minutes on a 2-core CPU, `full`: the paper's scale) in a suite directory, and an
optional hook `NAME.py` beside them defining

    def claims(df: pandas.DataFrame, profile: str) -> list[dict]

each dict with keys claim, paper (the paper's figure), measured (actlab's
figure, as measured), verdict (reproduced / not reproduced / not measured) and
optionally command (default: the `actlab reproduce` command that made the run);
and optionally

    def sections(df: pandas.DataFrame, profile: str) -> list[str]

Markdown lines the report places right after the claims table (e.g. a table the
suite computes beside its runs; figures it links go in df.attrs["run_dir"] / "report").
`df` is `actlab.experiments.load(run_dir)`; per-run histories and artifacts are
read with `read_run_file(df.attrs["run_dir"], run_id, "history.json" | "artifacts.json")`.
The hook may also define

    def figures(df, run_dir: Path, out: Path) -> list[tuple[str, str, str]]

drawing the suite's own figures into `out` (the report folder) and returning
(title, PNG file name, CSV file name) for each; they lead the report's figures.
Suite directories: the package's `suites/` folder, then those listed in the
ACTLAB_SUITES environment variable (os.pathsep-separated).

A suite whose work is not a sweep of runs (the capacity lab's scans) is a Python
suite instead: a module in PYTHON_SUITES with `run_suite(profile, out_dir) -> index.md`.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Optional, Union

from ..errors import ActlabError

PROFILES = ("quick", "full")
PYTHON_SUITES = {"capacity": "actlab.capacity.suite"}


def suite_dirs() -> list:
    extra = [Path(p) for p in os.environ.get("ACTLAB_SUITES", "").split(os.pathsep) if p]
    return [Path(__file__).parent / "suites", *extra]


def available_suites() -> dict:
    """Suite name -> sorted list of its profiles, over every suite directory."""
    found: dict = {name: set(PROFILES) for name in PYTHON_SUITES}
    for folder in suite_dirs():
        for path in sorted(folder.glob("*.toml")):
            name, _, profile = path.stem.rpartition("_")
            if name and profile in PROFILES:
                found.setdefault(name, set()).add(profile)
    return {name: sorted(profiles) for name, profiles in sorted(found.items())}


def suite_spec_path(suite: str, profile: str) -> Path:
    if profile not in PROFILES:
        raise ActlabError(f"unknown profile '{profile}'; allowed: {', '.join(PROFILES)}")
    for folder in suite_dirs():
        path = folder / f"{suite}_{profile}.toml"
        if path.exists():
            return path
    suites = available_suites()
    listing = ", ".join(f"{n} ({'/'.join(p)})" for n, p in suites.items()) or "none installed"
    raise ActlabError(f"no suite '{suite}' with profile '{profile}'; available suites: {listing}")


def reproduce_command(suite: str, profile: str) -> str:
    return f"actlab reproduce {suite} --profile {profile}"


def suite_claims(suite: str, df, profile: str) -> Optional[list]:
    """The suite hook's claims for these results, each with a command; None when the suite has no hook."""
    module = _load_hook(suite)
    if module is None:
        return None
    claims = [dict(c) for c in module.claims(df, profile)]
    for claim in claims:
        claim.setdefault("command", reproduce_command(suite, profile))
    return claims


def suite_sections(suite: str, df, profile: str) -> list:
    """The suite hook's extra Markdown lines for the report; [] when it defines none."""
    module = _load_hook(suite)
    if module is None or not hasattr(module, "sections"):
        return []
    return [str(line) for line in module.sections(df, profile)]


def suite_figures(suite: str, df, run_dir: Path, out: Path) -> list:
    """The suite hook's own figures (see module docstring); [] when it defines none."""
    module = _load_hook(suite)
    if module is None or not hasattr(module, "figures"):
        return []
    return [tuple(f) for f in module.figures(df, Path(run_dir), Path(out))]


def _load_hook(suite: str):
    hook = _hook_path(suite)
    if hook is None:
        return None
    spec = importlib.util.spec_from_file_location(f"actlab_suite_{suite}", hook)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hook_path(suite: str) -> Optional[Path]:
    for folder in suite_dirs():
        if (folder / f"{suite}.py").exists():
            return folder / f"{suite}.py"
    return None


def reproduce(suite: str, profile: str = "quick", out: Optional[Union[str, Path]] = None, **run_kwargs):
    """Run (or resume, with resume=True) a suite's spec, then build its report.

    Returns (SweepSummary, path of the report's index.md); the summary is None for
    a Python suite. Default run directory: runs/reproduce/<suite>-<profile>.
    """
    from .report import build_report
    from .runner import run_sweep

    run_dir = Path(out) if out is not None else Path("runs") / "reproduce" / f"{suite}-{profile}"
    if suite in PYTHON_SUITES:  # run_suite validates the profile itself
        return None, importlib.import_module(PYTHON_SUITES[suite]).run_suite(profile, run_dir)
    spec_path = suite_spec_path(suite, profile)
    summary = run_sweep(spec_path, out=run_dir, meta={"suite": suite, "profile": profile}, **run_kwargs)
    return summary, build_report(run_dir)
