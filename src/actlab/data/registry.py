"""load_dataset: one entry point for every dataset, by name or spec string.

    load_dataset("digits")
    load_dataset("fashion_mnist", subset=(5000, 1000))
    load_dataset("poly(target=x2y2, n_train=500)")      # same as load_dataset("poly", target="x2y2", n_train=500)
    load_dataset("mnist", root="~/data")                # or ACTLAB_DATA=~/data
"""
from __future__ import annotations

import ast
import inspect
import os
import re
from typing import Any, Callable

from ..errors import ActlabError
from .dataset import Dataset, RawSplit, build_dataset
from .mnist1d import mnist1d
from .synthetic import TARGETS, poly, target_function
from .vision import cifar10, digits, fashion_mnist, mnist

_LOADERS: dict[str, Callable[..., RawSplit]] = {
    "digits": digits,
    "fashion_mnist": fashion_mnist,
    "mnist": mnist,
    "cifar10": cifar10,
    "mnist1d": mnist1d,
    "poly": poly,
}
_ALIASES = {"fashion-mnist": "fashion_mnist", "fashionmnist": "fashion_mnist", "cifar-10": "cifar10",
            "mnist-1d": "mnist1d"}
_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(?:\((.*)\))?\s*$", re.S)


def list_datasets() -> list[str]:
    """Dataset names accepted by load_dataset, sorted."""
    return sorted(_LOADERS)


def parse_dataset_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """"name(k=v, ...)" -> ("name", {k: v}); values are Python literals or bare words (strings)."""
    m = _SPEC.match(spec)
    if not m:
        raise ActlabError(f"malformed dataset spec {spec!r}: expected NAME or NAME(key=value, ...)")
    params: dict[str, Any] = {}
    for item in filter(str.strip, (m.group(2) or "").split(",")):
        key, eq, raw = (s.strip() for s in item.partition("="))
        if not eq or not key.isidentifier() or not raw:
            raise ActlabError(f"malformed dataset spec {spec!r}: parameters must be key=value, got {item.strip()!r}")
        try:
            params[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            params[key] = {"true": True, "false": False, "none": None}.get(raw.lower(), raw)
    return m.group(1).lower(), params


def _resolve(name: str, opts: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(registry key, options) of a name or spec string, its name and option names checked."""
    if not isinstance(name, str):
        raise ActlabError(f"a dataset is a name or spec string, got {name!r}")
    key, spec_opts = parse_dataset_spec(name)
    clash = set(spec_opts) & set(opts)
    if clash:
        raise ActlabError(f"dataset option(s) {', '.join(sorted(clash))} given both in {name!r} and as keywords")
    opts = {**spec_opts, **opts}
    key = _ALIASES.get(key, key)
    if key not in _LOADERS:
        raise ActlabError(f"unknown dataset {name!r}; known: {', '.join(list_datasets())}")
    accepted = inspect.signature(_LOADERS[key]).parameters
    unknown = [k for k in opts if k not in accepted or k in ("root", "seed")]
    if unknown:
        allowed = [p for p in accepted if p not in ("root", "seed")]
        raise ActlabError(f"dataset {key!r} has no option {', '.join(unknown)}; allowed: {', '.join(allowed) or 'none'}")
    return key, opts


# Per-example input shape of each dataset from its options, without reading or generating
# the data (tests check each against the loader).
_SHAPES: dict[str, Callable[..., tuple[int, ...]]] = {
    "digits": lambda **o: (1, 8, 8),
    "fashion_mnist": lambda **o: (1, 28, 28),
    "mnist": lambda **o: (1, 28, 28),
    "cifar10": lambda **o: (3, 32, 32),
    "mnist1d": lambda length=40, **o: (1, int(length)),
    "poly": lambda target="xyz", **o: _poly_dim(target),
}


def _poly_dim(target: str) -> tuple[int]:
    target_function(target)  # an unknown target is an ActlabError naming the allowed ones
    return (TARGETS[target][0],)


def dataset_input_shape(name: str) -> tuple[int, ...]:
    """The per-example input shape load_dataset(name) would give, found without loading:
    checks the name and the options' names as load_dataset does (ActlabError otherwise)."""
    key, opts = _resolve(name, {})
    return _SHAPES[key](**opts)


def load_dataset(
    name: str, root: str | os.PathLike | None = None, seed: int = 0,
    subset: tuple[int | None, int | None] | None = None, normalize: bool | None = None,
    val_fraction: float | None = None, **opts: Any,
) -> Dataset:
    """Load a dataset by name or spec string.

    root: directory holding the dataset's files (file-backed datasets; generated ones ignore it).
    seed: drives the digits split, generated data and the subset draw.
    subset: (n_train, n_test) drawn at random without replacement; None in a slot keeps that split.
    normalize: standardise inputs with train statistics; default True for classification,
        False for regression (its inputs already live in a centred box).
    val_fraction: carve this fraction of the training split (after the subset draw) into a
        seeded validation split, ds.x_val / ds.y_val; training keeps the rest, the test
        split is untouched (see actlab.data.dataset.validation_split).
    opts: dataset options (e.g. target="xyz" for poly, test_fraction for digits).
    """
    key, opts = _resolve(name, opts)
    loader = _LOADERS[key]
    accepted = inspect.signature(loader).parameters
    if root is not None and "root" in accepted:
        opts["root"] = os.path.expanduser(os.fspath(root))
    if "seed" in accepted:
        opts["seed"] = seed
    try:
        raw = loader(**opts)
    except TypeError as exc:  # e.g. a string where a number belongs
        raise ActlabError(f"bad options for dataset {key!r}: {exc}") from None
    if normalize is None:
        normalize = raw.task == "classification"
    return build_dataset(key, raw, seed=seed, subset=subset, normalize=normalize, val_fraction=val_fraction)
