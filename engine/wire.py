"""The scale-out's wire format: solver values as compressed JSON, never pickle.

A part of a day (a routing part, an allocation category, a search) crosses to a
Celery worker, possibly on another host, and its answer comes back. Both travel
through Redis as :func:`dumps` bytes: zlib-compressed JSON of

* ``None``, booleans, integers, floats (``repr`` round-trips them exactly, so a
  part solved on a worker gives the same plan as in-process), strings (ids);
* lists, tuples, dicts (any hashable keys), enums of the solver packages;
* numpy arrays (dtype, shape and raw little-endian bytes, base64);
* frozen dataclasses of :data:`ALLOWED` only, rebuilt through their
  constructor (so ``__post_init__`` checks them again).

Why not pickle: a worker would run whatever a message names, and anyone who can
write to the broker could run code on every worker. Here :func:`loads` builds
nothing but plain values and the listed classes; anything else is a
:class:`WireError`.

What the values hold is numbers, coordinates and ids (allocation, lot and
volunteer ids of the scenario): the solvers never see a name, a phone number
or a household key, so none can travel.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import json
import zlib
from typing import Any

import numpy as np

# Frozen dataclasses and enums a part or an answer may hold, by "module:name".
ALLOWED = frozenset(
    {
        "routing.problem:Vehicle",
        "routing.problem:Shipment",
        "routing.problem:RoutingProblem",
        "routing.problem:GeoRoutingProblem",
        "routing.params:SolveParams",
        "routing.result:Status",
        "routing.result:DropReason",
        "routing.result:Stop",
        "routing.result:Route",
        "routing.result:Dropped",
        "routing.result:Metrics",
        "routing.result:RoutingResult",
        "matching.flow:CategoryArrays",
        "matching.flow:CategoryFlow",
    }
)
LEVEL = 6  # zlib: a routing part's JSON shrinks ~4x at a few ms


class WireError(ValueError):
    """A payload that is not a valid wire value (corrupt, or naming a class not allowed)."""


def dumps(value: Any) -> bytes:
    """``value`` as compressed JSON bytes (see the module docstring for what may be in it)."""
    text = json.dumps(_encode(value), separators=(",", ":"), allow_nan=True)
    return zlib.compress(text.encode(), LEVEL)


def loads(data: bytes) -> Any:
    """The value :func:`dumps` wrote; :class:`WireError` for anything else."""
    try:
        tree = json.loads(zlib.decompress(data))
    except (zlib.error, ValueError) as exc:
        raise WireError(f"not a wire payload: {exc}") from None
    return _decode(tree)


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _encode(v: Any) -> Any:
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, enum.Enum):
        return {"$e": _name(type(v)), "v": _encode(v.value)}
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        arr = np.ascontiguousarray(v)
        if arr.dtype.kind not in "biuf":
            raise WireError(f"array of dtype {arr.dtype} cannot travel")
        little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        return {
            "$a": little.dtype.str,
            "s": list(arr.shape),
            "b": base64.b64encode(little.tobytes()).decode(),
        }
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        name = _name(type(v))
        if name not in ALLOWED:
            raise WireError(f"{name} may not travel")
        fields = {f.name: _encode(getattr(v, f.name)) for f in dataclasses.fields(v) if f.init}
        return {"$c": name, "f": fields}
    if isinstance(v, tuple):
        return {"$t": [_encode(x) for x in v]}
    if isinstance(v, list):
        return [_encode(x) for x in v]
    if isinstance(v, dict):
        return {"$d": [[_encode(k), _encode(x)] for k, x in v.items()]}
    if isinstance(v, set | frozenset):
        return {"$s": [_encode(x) for x in sorted(v, key=repr)]}
    raise WireError(f"{type(v).__name__} cannot travel")


def _cls(name: Any) -> Any:
    if name not in ALLOWED:
        raise WireError(f"{name!r} may not travel")
    module, _, qual = str(name).partition(":")
    return getattr(importlib.import_module(module), qual)


def _decode(t: Any) -> Any:
    if isinstance(t, list):
        return [_decode(x) for x in t]
    if not isinstance(t, dict):
        return t
    try:
        if "$t" in t:
            return tuple(_decode(x) for x in t["$t"])
        if "$d" in t:
            return {_freeze(_decode(k)): _decode(x) for k, x in t["$d"]}
        if "$s" in t:
            return {_freeze(_decode(x)) for x in t["$s"]}
        if "$a" in t:
            arr = np.frombuffer(base64.b64decode(t["b"]), dtype=np.dtype(t["$a"]))
            # A writable native-order copy: the solvers may sort or write in place.
            return arr.astype(arr.dtype.newbyteorder("="), copy=True).reshape(t["s"])
        if "$e" in t:
            return _cls(t["$e"])(_decode(t["v"]))
        if "$c" in t:
            cls = _cls(t["$c"])
            return cls(**{k: _decode(x) for k, x in t["f"].items()})
    except WireError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"malformed wire value: {exc}") from None
    raise WireError(f"unknown wire object with keys {sorted(t)}")


def _freeze(v: Any) -> Any:
    """A decoded dict key or set member: lists become tuples (hashable)."""
    return tuple(_freeze(x) for x in v) if isinstance(v, list) else v
