"""Solver backends. Each turns the shared :class:`~routing.scaling.IntegerModel`
into its library's model and returns routes as ``{vehicle index: node codes}``
(see :mod:`routing.evaluate` for node codes); nothing here is trusted until the
portfolio re-checks it in float arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Routes = dict[int, list[int]]


@dataclass(frozen=True)
class BackendCall:
    """What a backend gets: the shipments to route and its budget."""

    active: tuple[int, ...]  # shipment indices worth routing (feasible alone)
    time_limit: float  # seconds; inf in iteration mode (max_iterations alone bounds the search)
    seed: int
    max_iterations: int | None  # the backend's share of SolveParams.iterations, or the cap
    initial: Routes | None = None  # warm start (e.g. the best routes so far)
    # Threads a backend may use (VROOM's parallel search); 1 inside the
    # decomposition, whose parts already run one per process.
    threads: int = 1
    # VROOM's exploration level (1-5); None: chosen by size and time
    # (routing.backends.vroom_backend.exploration_level).
    vroom_exploration: int | None = 5
    # Fleet minimisation that never gives up a target on a long run with
    # pairs (routing.backends.ejection.PATIENT_SECONDS): one of two searches.
    patient_fleet: bool = False
    # When set, the backend writes here what its search did, in units a
    # replay can repeat without the clock (routing.record): PyVRP its
    # iterations, VROOM its level and threads.
    report: dict[str, Any] | None = field(default=None, compare=False, repr=False)
