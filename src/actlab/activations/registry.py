"""One registry for every activation: names, aliases and spec strings.

    get_activation("zorro", a=1.2, b=1.0)
    get_activation("mrepu(p=3)")          # a spec string parses to the same object
    get_activation("zorro(a=1.5,b=0.8)", learnable=True)
"""
from __future__ import annotations

import ast
import inspect
import re
from typing import Any, Callable

from torch import nn

from ..errors import ActlabError

_FACTORIES: dict[str, Callable[..., nn.Module]] = {}
_ALIASES: dict[str, str] = {}
_REVISION = [0]  # bumped by every register(): what was built from a name may have changed

_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)


def register(name: str, *aliases: str) -> Callable:
    """Class/function decorator adding a factory to the registry under `name`."""

    def deco(factory):
        _REVISION[0] += 1
        _FACTORIES[name] = factory
        for alias in aliases:
            _ALIASES[alias] = name
        return factory

    return deco


def registry_revision() -> int:
    """A number that changes whenever a name is (re)registered: a cache of what was built from
    spec strings keys on it, so a re-registered name is never served from the cache."""
    return _REVISION[0]


def list_activations() -> list[str]:
    """Registered names (aliases excluded), sorted."""
    return sorted(_FACTORIES)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split "name(k=v, ...)" into ("name", {k: v}). Values are Python literals or true/false."""
    m = _SPEC.match(spec)
    if not m:
        raise ActlabError(f"malformed activation spec {spec!r}: expected NAME or NAME(key=value, ...)")
    name, body = m.group(1).lower(), m.group(2)
    params: dict[str, Any] = {}
    if body and body.strip():
        for item in body.split(","):
            key, eq, raw = item.partition("=")
            key, raw = key.strip(), raw.strip()
            if not eq or not key.isidentifier() or not raw:
                raise ActlabError(f"malformed activation spec {spec!r}: parameters must be key=value, got {item.strip()!r}")
            params[key] = _literal(raw, spec)
    return name, params


def _literal(raw: str, spec: str) -> Any:
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        raise ActlabError(f"malformed activation spec {spec!r}: {raw!r} is not a number or boolean") from None
    if not isinstance(value, (int, float, bool)) and value is not None:
        raise ActlabError(f"malformed activation spec {spec!r}: {raw!r} is not a number or boolean")
    return value


def resolve_name(name: str) -> str:
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in _FACTORIES:
        raise ActlabError(f"unknown activation {name!r}; known: {', '.join(list_activations())}")
    return key


def allowed_params(name: str) -> list[str]:
    sig = inspect.signature(_FACTORIES[resolve_name(name)])
    return [p for p in sig.parameters if p != "self"]


def get_activation(spec: str | nn.Module, **params: Any) -> nn.Module:
    """Build an activation module from a registry name or spec string.

    Keyword arguments are merged with the spec string's parameters; giving the same
    parameter in both is an error. An nn.Module passes through unchanged.
    """
    if isinstance(spec, nn.Module):
        if params:
            raise ActlabError("parameters cannot be applied to an activation module instance")
        return spec
    if not isinstance(spec, str):
        raise ActlabError(f"an activation is a name, a spec string or an nn.Module, got {type(spec).__name__}")
    name, spec_params = parse_spec(spec)
    clash = set(spec_params) & set(params)
    if clash:
        raise ActlabError(f"parameter(s) {', '.join(sorted(clash))} given both in {spec!r} and as keywords")
    key = resolve_name(name)
    merged = {**spec_params, **params}
    allowed = allowed_params(key)
    unknown = [k for k in merged if k not in allowed]
    if unknown:
        raise ActlabError(
            f"activation {key!r} has no parameter {', '.join(unknown)}; allowed: {', '.join(allowed) or 'none'}"
        )
    try:
        return _FACTORIES[key](**merged)
    except TypeError as exc:  # e.g. a string where a number belongs
        raise ActlabError(f"bad parameters for activation {key!r}: {exc}") from None
