"""Reproduction suites: where they live, their specs, their claims, `reproduce` and their reports.

A built-in suite is a package `actlab/suites/<name>/` holding one work together:

    quick.toml, full.toml   the specs of its profiles (`quick`: minutes on a 2-core CPU,
                            `full`: the paper's scale; optionally cpu.toml, `cpu`: the full
                            design reduced to a few hours of a 2-core CPU)
    claims.py               its hook (below): claims table, extra report sections, figures
    task.py                 its own task kind, where the suite needs one (mrepu, capacity, finite_width)

Suites outside the package live in the folders listed in the ACTLAB_SUITES environment
variable (os.pathsep-separated) as flat files: `NAME_<profile>.toml` and an optional hook
`NAME.py` beside them. A built-in suite wins over an external one of the same name.

A hook defines

    def claims(df: pandas.DataFrame, profile: str) -> list[dict]

each dict with keys claim, paper (the paper's figure), measured (actlab's figure, as
measured), verdict (reproduced / not reproduced / not measured) and optionally command
(default: the `actlab reproduce` command that made the run); and optionally

    def sections(df: pandas.DataFrame, profile: str) -> list[str]

Markdown lines the report places right after the claims table (e.g. a table the suite
computes beside its runs; figures it links go in df.attrs["report_dir"], the report folder), and

    def figures(df, run_dir: Path, out: Path) -> list[tuple[str, str, str]]

drawing the suite's own figures into `out` (the report folder) and returning (title, PNG
file name, CSV file name) for each; they lead the report's figures. `df` is
`actlab.experiments.load(run_dir)`; per-run histories and artifacts are read with
`read_run_file(df.attrs["run_dir"], run_id, "history.json" | "artifacts.json")`.

The report engine (actlab.experiments.report) knows nothing of suites: `suite_report`
computes the hook's claims, sections and figures and hands them to `build_report`.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Optional, Union

from ..errors import ActlabError
from ..experiments.report import build_report, report_dir
from ..experiments.runner import run_sweep
from ..experiments.store import load

PROFILES = ("quick", "full", "cpu")
BUILTIN = Path(__file__).parent


def builtin_suites() -> list:
    """Names of the suites shipped in the package: the sub-packages of actlab.suites."""
    return sorted(d.name for d in BUILTIN.iterdir() if (d / "__init__.py").exists())


def suite_dirs() -> list:
    """The external suite folders, from ACTLAB_SUITES."""
    return [Path(p) for p in os.environ.get("ACTLAB_SUITES", "").split(os.pathsep) if p]


def available_suites() -> dict:
    """Suite name -> sorted list of its profiles, built-in and external."""
    found: dict = {}
    for name in builtin_suites():
        found[name] = {p for p in PROFILES if (BUILTIN / name / f"{p}.toml").exists()}
    for folder in suite_dirs():
        for path in sorted(folder.glob("*.toml")):
            name, _, profile = path.stem.rpartition("_")
            if name and profile in PROFILES:
                found.setdefault(name, set()).add(profile)
    return {name: sorted(profiles) for name, profiles in sorted(found.items()) if profiles}


def suite_spec_path(suite: str, profile: str) -> Path:
    if profile not in PROFILES:
        raise ActlabError(f"unknown profile '{profile}'; allowed: {', '.join(PROFILES)}")
    candidates = [BUILTIN / suite / f"{profile}.toml"] if suite in builtin_suites() else []
    candidates += [folder / f"{suite}_{profile}.toml" for folder in suite_dirs()]
    for path in candidates:
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


def suite_report(run_dir: Union[str, Path], out: Optional[Union[str, Path]] = None) -> Path:
    """The report of RUN_DIR (`build_report`, into `out` or RUN_DIR/report), with the claims,
    sections and figures of the suite that made it (its stored meta "suite", by `reproduce`);
    a plain report otherwise. Hooks draw into the report folder, df.attrs["report_dir"]."""
    run_dir = Path(run_dir)
    df = load(run_dir)
    meta = df.attrs["meta"]
    module = _load_hook(meta["suite"]) if meta.get("suite") else None
    if module is None:
        return build_report(run_dir, out=out)
    profile = meta.get("profile", "quick")
    out = report_dir(run_dir, out)
    df.attrs["report_dir"] = str(out)
    claims = suite_claims(meta["suite"], df, profile)
    sections = [str(line) for line in module.sections(df, profile)] if hasattr(module, "sections") else []
    figures = [tuple(f) for f in module.figures(df, run_dir, out)] if hasattr(module, "figures") else []
    return build_report(run_dir, claims=claims, sections=sections, figures=figures, out=out)


def _load_hook(suite: str) -> Optional[ModuleType]:
    if suite in builtin_suites():
        found = (BUILTIN / suite / "claims.py").exists()
        return importlib.import_module(f"{__package__}.{suite}.claims") if found else None
    hook = next((folder / f"{suite}.py" for folder in suite_dirs() if (folder / f"{suite}.py").exists()), None)
    if hook is None:
        return None
    spec = importlib.util.spec_from_file_location(f"actlab_suite_{suite}", hook)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reproduce(suite: str, profile: str = "quick", out: Optional[Union[str, Path]] = None, **run_kwargs):
    """Run (or resume, with resume=True) a suite's spec, then build its report.

    Returns (SweepSummary, path of the report's index.md). Default run directory:
    runs/reproduce/<suite>-<profile>.
    """
    run_dir = Path(out) if out is not None else Path("runs") / "reproduce" / f"{suite}-{profile}"
    spec_path = suite_spec_path(suite, profile)
    summary = run_sweep(spec_path, out=run_dir, meta={"suite": suite, "profile": profile}, **run_kwargs)
    return summary, suite_report(run_dir)
