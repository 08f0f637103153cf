"""The solver functions a scale-out worker may run, by name.

The solvers hand their independent parts to an executor as plain calls
(``executor.submit(solve_part, part, params, seed, initial)``): a regional
routing part (:func:`routing.parallel.solve_part`), an allocation category
(:func:`matching.flow.solve_category`), another search of a one-piece route
(``routing.multistart._search``). :class:`engine.remote.CeleryExecutor` sends
such a call to a worker by the name given here, its arguments as a
:mod:`engine.wire` payload; the worker (:mod:`engine.celery_app`) looks the name
up here and runs the same function. No other function can be named.

A :class:`Kind` also says how its arguments cross hosts (``outbound`` /
``inbound``: a search's deadline is a ``time.monotonic()`` instant, meaningless
on another machine, so it travels as seconds left) and how long the part may
take (``budget``: a time-limited routing part's seconds, ``None`` when bounded
by iterations or by nothing), which the executor uses to decide when a part is
overdue and to give a part taken back in-process only its remaining time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

Args = tuple[Any, ...]


def _same(args: Args) -> Args:
    return args


def _no_budget(args: Args) -> float | None:
    return None


@dataclass(frozen=True)
class Kind:
    """One function a worker may run, and how its arguments travel."""

    name: str
    function: Callable[..., Any]
    outbound: Callable[[Args], Args] = _same  # caller's arguments -> wire arguments
    inbound: Callable[[Args], Args] = _same  # wire arguments -> worker's arguments
    budget: Callable[[Args], float | None] = _no_budget  # seconds the part may take
    # The arguments for solving the part here, ``remaining`` seconds before its
    # window closes (None: no time bound, the arguments as they are).
    shrink: Callable[[Args, float], Args] = lambda args, remaining: args


def _part_budget(args: Args) -> float | None:
    params = args[1]
    if params.iterations is not None or params.replay is not None:
        return None  # counted work: it takes what it takes, and must be done in full
    return float(params.time_limit)


def _part_shrink(args: Args, remaining: float) -> Args:
    from routing.parallel import MIN_PART_SECONDS

    if _part_budget(args) is None:
        return args
    params = replace(args[1], time_limit=max(MIN_PART_SECONDS, remaining))
    return (args[0], params, *args[2:])


def _search_out(args: Args) -> Args:
    problem, params, seed, deadline, initial, threads, recording = args
    return (problem, params, seed, deadline - time.monotonic(), initial, threads, recording)


def _search_in(args: Args) -> Args:
    problem, params, seed, left, initial, threads, recording = args
    return (problem, params, seed, time.monotonic() + left, initial, threads, recording)


def _search_budget(args: Args) -> float | None:
    left = args[3] - time.monotonic()
    return None if left == float("inf") else max(0.0, left)


def kinds() -> dict[str, Kind]:
    """Every function a worker may run, by name (imports the solvers)."""
    from matching.flow import solve_category
    from routing import multistart
    from routing.parallel import solve_part

    return {
        k.name: k
        for k in (
            Kind("routing.part", solve_part, budget=_part_budget, shrink=_part_shrink),
            Kind("matching.category", solve_category),
            Kind(
                "routing.search",
                multistart._search,
                outbound=_search_out,
                inbound=_search_in,
                budget=_search_budget,
            ),
        )
    }


def kind_of(function: Callable[..., Any]) -> Kind:
    """The :class:`Kind` of ``function``; ``TypeError`` if workers may not run it."""
    for kind in kinds().values():
        if kind.function is function:
            return kind
    name = getattr(function, "__qualname__", repr(function))
    raise TypeError(f"{name} is not a part a worker may run (engine.parts)")
