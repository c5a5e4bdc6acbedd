"""The results store of one run directory.

    RUN_DIR/results.sqlite      one row per run (SQLite, WAL journal), table `runs`:
        id TEXT PRIMARY KEY, position, task, config (JSON), status, error,
        metrics (JSON), diverged_at (JSON), started, finished, duration, attempts,
        phase ("trial" / "final" in a tuned sweep, else NULL), arm (the sweep point's id)
      and table `meta` (key, value): the spec's name, task, axes, report hints, text,
      and `tune` (the [tune] section) for a tuned sweep.
    RUN_DIR/tune.sqlite         a tuned sweep's Optuna studies (one per arm).
    RUN_DIR/runs/<id>/          config.json, history.json, artifacts.json and any
                                files the task wrote itself.

Only the parent process writes here (workers send results back), and only the
process holding the run directory's lock (actlab.places.RunLock), so SQLite sees
one writer; WAL lets `load` read while a sweep is writing. Readers open the
database read-only (URI mode=ro; immutable=1 on read-only media, where SQLite
cannot create the WAL's shared-memory file), so reports work on a copy on a
read-only disk as well. A run's status moves
pending -> running -> done | diverged | collapsed | pruned | failed; a row left
`running` by a killed sweep goes back to pending when the sweep resumes. done,
diverged, collapsed and pruned (a tuning trial its pruner stopped) are results
(kept on resume); failed runs are retried.
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Optional, Union

from ..errors import ActlabError
from ..places import prepare_dir
from .spec import Run

STATUSES = ("pending", "running", "done", "diverged", "collapsed", "pruned", "failed")
FINISHED = ("done", "diverged", "collapsed", "pruned")
DB_NAME = "results.sqlite"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    task TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    error TEXT,
    metrics TEXT,
    diverged_at TEXT,
    started REAL,
    finished REAL,
    duration REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    phase TEXT,
    arm TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ResultStore:
    """SQLite store of a sweep's runs; see the module docstring for the schema."""

    def __init__(self, run_dir: Union[str, Path], create: bool = True, readonly: bool = False) -> None:
        self.run_dir = Path(run_dir)
        path = self.run_dir / DB_NAME
        if (readonly or not create) and not path.exists():
            raise ActlabError(f"{self.run_dir} is not a run directory (no {DB_NAME}); "
                              f"create one with `actlab run SPEC.toml --out {self.run_dir}`")
        if readonly:
            self.db = _connect_readonly(path)
            return
        prepare_dir(self.run_dir, "run directory")
        self.db = sqlite3.connect(path, timeout=30.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(runs)")}
        for column in ("phase", "arm"):  # a store written before tuned sweeps existed
            if column not in columns:
                self.db.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT")
        self._allow_new_statuses()
        self.db.commit()

    def _allow_new_statuses(self) -> None:
        """A store made before a status existed has a CHECK that rejects it: rebuild `runs` with today's."""
        sql = self.db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()[0]
        if all(f"'{s}'" in sql for s in STATUSES):
            return
        columns = ", ".join(row[1] for row in self.db.execute("PRAGMA table_info(runs)"))
        self.db.executescript(f"ALTER TABLE runs RENAME TO runs_old; {_SCHEMA} "
                              f"INSERT INTO runs ({columns}) SELECT {columns} FROM runs_old; DROP TABLE runs_old;")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- metadata
    def set_meta(self, **values) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in values.items()])

    def meta(self) -> dict:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    # ---- runs
    def add_runs(self, runs: Iterable[Run]) -> int:
        """Insert runs not yet stored (a stored id is left as it is); returns how many were new."""
        before = self.count()
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO runs (id, position, task, config, status, phase, arm) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                [(r.id, r.position, r.task, json.dumps(r.config, sort_keys=True), r.phase, r.arm) for r in runs])
        return self.count() - before

    def requeue_interrupted(self) -> int:
        """Rows left `running` by a sweep that was killed go back to `pending`."""
        with self.db:
            return self.db.execute("UPDATE runs SET status = 'pending' WHERE status = 'running'").rowcount

    def todo(self, ids: Optional[set] = None) -> list:
        """Runs still to do (pending or failed), in spec order; restricted to `ids` when given."""
        rows = self.db.execute("SELECT id, task, config, position FROM runs "
                               "WHERE status IN ('pending', 'failed') ORDER BY position").fetchall()
        return [Run(rid, task, json.loads(config), pos) for rid, task, config, pos in rows
                if ids is None or rid in ids]

    def mark_running(self, rid: str) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET status = 'running', attempts = attempts + 1, started = ?, "
                            "finished = NULL, duration = NULL, error = NULL WHERE id = ?", (time.time(), rid))

    def record(self, rid: str, status: str, metrics: Optional[dict] = None, error: Optional[str] = None,
               diverged_at: Optional[dict] = None, duration: Optional[float] = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}; got {status!r}")
        now = time.time()
        with self.db:
            self.db.execute(
                "UPDATE runs SET status = ?, metrics = ?, error = ?, diverged_at = ?, finished = ?, "
                "duration = COALESCE(?, ? - started) WHERE id = ?",
                (status, json.dumps(metrics or {}), error, json.dumps(diverged_at) if diverged_at else None,
                 now, duration, now, rid))

    def result(self, rid: str) -> Optional[tuple]:
        """(status, metrics) of one run, or None when it is not stored."""
        row = self.db.execute("SELECT status, metrics FROM runs WHERE id = ?", (rid,)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]) if row[1] else {})

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def counts(self) -> dict:
        found = dict(self.db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
        return {s: found.get(s, 0) for s in STATUSES}

    def rows(self) -> list:
        cur = self.db.execute("SELECT * FROM runs ORDER BY position")
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            rec = dict(zip(names, row))
            for key in ("config", "metrics", "diverged_at"):
                rec[key] = json.loads(rec[key]) if rec[key] else ({} if key != "diverged_at" else None)
            out.append(rec)
        return out

    # ---- per-run files
    def run_path(self, rid: str) -> Path:
        path = self.run_dir / "runs" / rid
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_run_files(self, rid: str, config: dict, history: list, extra: dict) -> None:
        path = self.run_path(rid)
        (path / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True))
        (path / "history.json").write_text(json.dumps(history))
        (path / "artifacts.json").write_text(json.dumps(extra))


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """mode=ro sees a running sweep's latest commits; where SQLite cannot create the WAL's
    -shm file (read-only media) the file is opened as immutable, which needs no write at all."""
    uri = path.resolve().as_uri()
    for query in ("mode=ro", "immutable=1"):
        db = None
        try:
            db = sqlite3.connect(f"{uri}?{query}", uri=True, timeout=30.0)
            db.execute("SELECT COUNT(*) FROM runs").fetchone()
            return db
        except sqlite3.OperationalError as exc:
            error = exc
            if db is not None:
                db.close()
            if "no such table" in str(exc):  # a sweep that has only just created the file
                raise ActlabError(f"{path.parent} holds no runs yet (its sweep may be starting); "
                                  "try again in a moment") from None
        except sqlite3.DatabaseError as exc:  # not a database at all: no point in trying immutable
            raise ActlabError(f"{path} is not a readable results database: {exc}") from None
    raise ActlabError(f"cannot read {path}: {error}") from None


def read_run_file(run_dir: Union[str, Path], rid: str, name: str):
    """history.json / artifacts.json of one run, or None when the run wrote none."""
    path = Path(run_dir) / "runs" / rid / name
    return json.loads(path.read_text()) if path.exists() else None


def load(run_dir: Union[str, Path]):
    """All runs of a run directory as a pandas DataFrame.

    Columns: id, status, (tuned sweeps: phase "trial" / "final" and arm, the id of
    the sweep point), the configuration keys (nested tables flattened as
    `a.b`), the final metrics (prefixed `metric.` only where a name clashes with
    a configuration key), error, diverged_step, diverged_layer, attempts,
    duration, started, finished. `df.attrs` holds `axes`, `config_keys`,
    `metric_keys`, `meta` (the spec's name, task, report hints, `tune`) and `run_dir`
    (for per-run files: `read_run_file(df.attrs["run_dir"], id, "artifacts.json")`).
    """
    import pandas as pd

    with ResultStore(run_dir, readonly=True) as store:
        rows, meta = store.rows(), store.meta()
    config_keys, metric_keys, records = [], [], []
    flat_configs = [_flatten(r["config"]) for r in rows]
    for flat in flat_configs:
        config_keys += [k for k in flat if k not in config_keys]
    for r in rows:
        metric_keys += [k for k in r["metrics"] if k not in metric_keys]
    metric_col = {m: (f"metric.{m}" if m in config_keys or m in _FIXED else m) for m in metric_keys}
    tuned = any(r["phase"] for r in rows)
    lead = ["id", "status", *(("phase", "arm") if tuned else ())]
    for r, flat in zip(rows, flat_configs):
        rec = {key: r[key] for key in lead} | flat
        rec.update({metric_col[m]: r["metrics"].get(m, float("nan")) for m in metric_keys})
        div = r["diverged_at"] or {}
        rec.update(error=r["error"], diverged_step=div.get("step"), diverged_layer=div.get("layer"),
                   attempts=r["attempts"], duration=r["duration"], started=r["started"], finished=r["finished"])
        records.append(rec)
    columns = [*lead, *config_keys, *metric_col.values(), *_FIXED[4:]]
    df = pd.DataFrame.from_records(records, columns=columns)
    for col in ("started", "finished"):
        df[col] = pd.to_datetime(df[col], unit="s", utc=True)
    df.attrs.update(axes=[a for a in meta.get("axes", []) if a in config_keys], config_keys=config_keys,
                    metric_keys=list(metric_col.values()), meta=meta, run_dir=str(run_dir))
    return df


_FIXED = ("id", "status", "phase", "arm", "error", "diverged_step", "diverged_layer", "attempts", "duration", "started", "finished")


def _flatten(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
