"""The examples in actlab's docstrings run and print what they say (long ones are marked +SKIP)."""
import doctest
import importlib
import pkgutil

import actlab

# kernels need triton or a GPU; __main__ runs the CLI on import
MODULES = sorted(m.name for m in pkgutil.walk_packages(actlab.__path__, "actlab.")
                 if ".kernels" not in m.name and not m.name.endswith("__main__"))


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    attempted, failed = 0, []
    for name in MODULES:
        result = doctest.testmod(importlib.import_module(name), report=False,
                                 optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        attempted += result.attempted
        if result.failed:
            failed.append(f"{name} ({result.failed} of {result.attempted})")
    assert attempted >= 30, attempted  # the examples are found at all
    assert not failed, f"docstring examples that fail (run `python -m doctest` on the module): {failed}"
