"""Where dataset files are looked for, and the error that says so when they are not found.

Order: the `root` the caller gives (only there); otherwise $ACTLAB_DATA, then the
dataset's system directories (e.g. /usr/share/datasets/fashion-mnist from the Debian
package dataset-fashion-mnist). In each base directory the base itself and the
dataset's usual sub-directories (e.g. fashion-mnist/, MNIST/raw/) are searched.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import ActlabError

ENV_VAR = "ACTLAB_DATA"


def search_dirs(root: str | os.PathLike | None, system_dirs: Sequence[str], subdirs: Sequence[str]) -> list[Path]:
    """Candidate directories, in the order they are tried."""
    if root is not None:
        bases = [Path(root)]
    else:
        env = os.environ.get(ENV_VAR)
        bases = ([Path(env)] if env else []) + [Path(d) for d in system_dirs]
    dirs: list[Path] = []
    for base in bases:
        for d in [base, *(base / s for s in subdirs)]:
            if d not in dirs:
                dirs.append(d)
    return dirs


def _show(names: Sequence[str]) -> str:
    """["a.gz", "a", "b"] -> "a[.gz] or b"."""
    stems = list(dict.fromkeys(n.removesuffix(".gz") for n in names))
    return " or ".join(f"{s}[.gz]" if f"{s}.gz" in names else s for s in stems)


def find_files(dataset: str, files: Mapping[str, Sequence[str]], dirs: Sequence[Path]) -> dict[str, Path]:
    """The first directory holding every file; files maps a role to the names it may have.

    Raises ActlabError naming the expected files, the directories tried, and how to
    point actlab at another directory.
    """
    for d in dirs:
        found = {role: next((d / n for n in names if (d / n).is_file()), None) for role, names in files.items()}
        if all(found.values()):
            return found  # type: ignore[return-value]
    expected = ", ".join(_show(names) for names in files.values())
    tried = ", ".join(str(d) for d in dirs) or "(no directory: give root or set ACTLAB_DATA)"
    partial = [
        f"{d} has only {', '.join(sorted(n for names in files.values() for n in names if (d / n).is_file()))}"
        for d in dirs
        if d.is_dir() and any((d / n).is_file() for names in files.values() for n in names)
    ]
    raise ActlabError(
        f"{dataset}: files not found; expected {expected}; looked in {tried}"
        + (f" ({'; '.join(partial)})" if partial else "")
        + f". Point at the directory holding them with load_dataset({dataset!r}, root=DIR) "
        f"(CLI: --data-root DIR) or set {ENV_VAR}=DIR."
    )
