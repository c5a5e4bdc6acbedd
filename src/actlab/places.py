"""Where commands write: destinations checked before work starts, and run directories owned by one process.

The rule, the same for every command and function that writes: missing parent
directories are created (as `mkdir -p` would); a place that cannot be created or
written is an ActlabError naming it, raised before any work is done.

A run directory (a sweep's or a training run's) is owned by one process at a
time through an OS-level lock on RUN_DIR/.lock (flock): the kernel drops it when
the holder exits, however it exits (kill -9 included), so a stale lock cannot
outlive its process. Readers (reports, `load`) never take it.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Union

from .errors import ActlabError

PathLike = Union[str, os.PathLike]
LOCK_NAME = ".lock"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def prepare_dir(path: PathLike, what: str = "directory") -> Path:
    """Create `path` and its missing parents, and check that files can be created in it."""
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ActlabError(f"cannot use {path} as the {what}: it exists and is not a directory") from None
    except OSError as exc:
        raise ActlabError(f"cannot create the {what} {path}: {_reason(exc)}") from None
    _check_writable(path, what)
    return path


def prepare_file(path: PathLike, what: str = "output file", suffixes: Optional[Iterable[str]] = None) -> Path:
    """Check an output file's name (`suffixes`: allowed extensions, without the dot), create its
    missing parent directories and check that the file can be written there."""
    path = Path(path).expanduser()
    if suffixes is not None:
        allowed = sorted(set(suffixes))
        if path.suffix.lower().lstrip(".") not in allowed:
            raise ActlabError(f"the {what} {path} needs one of the extensions {', '.join('.' + s for s in allowed)}")
    if path.is_dir():
        raise ActlabError(f"cannot write the {what} {path}: it is a directory")
    prepare_dir(path.parent, f"directory of the {what}")
    if path.exists() and not os.access(path, os.W_OK):
        raise ActlabError(f"cannot write the {what} {path}: permission denied")
    return path


def plot_file(path: PathLike, what: str = "plot") -> Path:
    """prepare_file for a figure: the extension must be one matplotlib can write (png, pdf, svg, ...)."""
    from matplotlib.figure import Figure

    return prepare_file(path, what, Figure().canvas.get_supported_filetypes())


def _check_writable(path: Path, what: str) -> None:
    """Create and remove a probe file: the only test that also holds for root and read-only mounts."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".actlab-probe-", dir=path)
    except OSError as exc:
        raise ActlabError(f"cannot write in the {what} {path}: {_reason(exc)}") from None
    os.close(fd)
    os.unlink(probe)


class RunLock:
    """Exclusive ownership of a run directory for this process (see the module docstring).

    Use as a context manager, or `acquire()` / `release()`. A second owner, in this
    process or another, gets an ActlabError naming the holder's pid.
    """

    def __init__(self, run_dir: PathLike) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: Optional[int] = None

    def acquire(self) -> "RunLock":
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ActlabError(f"cannot lock {self.path.parent}: {_reason(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ActlabError(f"cannot lock {self.path.parent}: {_reason(exc)}") from None
            raise ActlabError(f"{self.path.parent} is in use by another actlab process (pid {holder}); "
                              f"wait for it to finish or stop it, then --resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
