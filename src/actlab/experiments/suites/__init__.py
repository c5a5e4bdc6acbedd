"""Built-in reproduction suites: `<suite>_<profile>.toml` specs, and an optional `<suite>.py` hook
defining `claims(df, profile) -> list[dict]` (see actlab.experiments.suites_registry)."""
