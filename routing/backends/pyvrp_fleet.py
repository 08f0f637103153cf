"""Fleet minimisation on a PyVRP model: fewer routes by absence-weighted prizes.

Used when vehicle fixed costs dominate and every shipment is required (the
public benchmarks' hierarchical objective: vehicles first, then distance).
PyVRP's search on its own rarely sheds a whole route, and asking it for a
plan with one vehicle fewer, the removed route's clients forced in against
a time-warp penalty, often stalls: Solomon R104 stayed at 10 routes for
60 s (BKS 9), where absence rounds (below) found 9 in 6 s.

Runs only on benchmark objectives: every shipment required and vehicle fixed
costs that outweigh any distance (``_fleet_first`` in
:mod:`routing.backends.pyvrp_backend` is the one gate). A Jessr day has
optional shipments and no fixed costs, so its PyVRP run branches away there
and goes straight to PyVRP's own search: a reader of a day's path can skip
this module.

What works instead is the idea of SISR's fleet minimisation (Christiaens &
Vanden Berghe, "Slack induction by string removals", Transportation Science
2020): with one vehicle fewer, let clients stay *unserved* rather than late,
and make a client's prize grow with how often it has been left out (its
*absence*). Clients that are hard to place become ever more valuable until
the search finds room for them. Here each round is a short PyVRP run on
the same model with every client optional, prize = ``base × absence``
(``base`` outweighs any detour, so serving more always pays), warm-started
from the previous round's plan; after a round, every client left out has its
absence raised. A round that serves everyone, on time and within capacity,
is a feasible plan with one route fewer, and the next target starts from it.

Each target first gets PyVRP's own penalised search (cheap when the target
is easy, and better on wide-window instances), then absence rounds.

Since 2026-12-01 the hard targets go to the guided ejection search
(:mod:`routing.backends.ejection`), a compiled route minimiser that reached
the best-known vehicle count on Li & Lim instances where absence rounds
stayed one to five routes above. PyVRP's penalised search still takes each
target first: when it succeeds its plans keep PyVRP's good distances,
which the ejection search's plans do not (measured: ``docs/experiments.md``).
Absence rounds remain for models the ejection kernel declines (several
vehicle types, duration limits, ...). The distance those plans lose is
the job of :mod:`routing.backends.ruin`, which the PyVRP backend runs after
this phase on models with pairs.
Measurements: ``routing/README.md`` ("Benchmark-only machinery") and
``BENCHMARKS.md``.
"""

from __future__ import annotations

import logging
import math
import time
import warnings

import numpy as np
import pyvrp
from pyvrp import stop as pstop
from pyvrp.exceptions import PenaltyBoundWarning

log = logging.getLogger(__name__)

PENALISED_SHARE = 0.3  # of the time left, for PyVRP's own penalised search per target
# ... and when the ejection search can take the targets PyVRP misses: there a
# miss only hands over to a faster minimiser, so it should cost less
# (Solomon at 10 s, with RETRIES/STALL_SHARE of the ejection search: ahead of
# the best peer on 25 instances and behind on 11, against 21 and 15 at 0.3).
PENALISED_SHARE_EJECTION = 0.1
PENALISED_ITERATIONS = 50_000  # and at most this many of its iterations
ROUND_ITERATIONS = 500  # PyVRP iterations per absence round (between prize updates)
STALL_ITERATIONS = 20_000  # a target is given up after this many without fewer left out
# In a patient search of clients only, absence rounds take up the target the
# ejection search gave up (_absence_after_ejection), for at most this share
# of the time left, and are given up after this share of the fleet phase's
# time without fewer clients left out: long-route instances (Solomon RC2)
# spent the rest of the share on a hopeless target, and their distance
# suffered, when the rounds ran on to the share's end.
PATIENT_ABSENCE_SHARE = 0.5
PATIENT_ABSENCE_STALL = 0.15


def fleet_bound(data: pyvrp.ProblemData) -> int:
    """Routes needed to carry the clients' total delivery (1 when only pairs)."""
    cap = max(int(data.vehicle_type(0).capacity[0]), 1)
    total = sum(int(c.delivery[0]) for c in data.clients()) if data.num_load_dimensions else 0
    return max(1, -(-total // cap))


def rebuild(data: pyvrp.ProblemData, routes: list[pyvrp.Route]) -> pyvrp.Solution | None:
    """``routes`` (of another ``data`` with the same clients) as a solution of ``data``."""
    try:
        return pyvrp.Solution(
            data,
            [
                pyvrp.Route(data, [pyvrp.Activity(a.type, a.idx) for a in r if not a.is_depot()], 0)
                for r in routes
            ],
        )
    except (ValueError, RuntimeError):
        return None


def _optional(
    data: pyvrp.ProblemData, prize_c: np.ndarray, prize_s: np.ndarray
) -> pyvrp.ProblemData:
    """``data`` with every client and shipment optional, at the given prizes."""
    clients = [
        pyvrp.Client(
            location=c.location,
            delivery=list(c.delivery),
            pickup=list(c.pickup),
            service_duration=c.service_duration,
            tw_early=c.tw_early,
            tw_late=c.tw_late,
            release_time=c.release_time,
            prize=int(prize_c[i]),
            required=False,
            group=c.group,
            name=c.name,
        )
        for i, c in enumerate(data.clients())
    ]
    shipments = [
        pyvrp.Shipment(
            s.pickup.location,
            s.delivery.location,
            s.pickup.tw_early,
            s.pickup.tw_late,
            s.pickup.service_duration,
            s.delivery.tw_early,
            s.delivery.tw_late,
            s.delivery.service_duration,
            list(s.amount),
            int(prize_s[i]),
            False,
            name=s.name,
        )
        for i, s in enumerate(data.shipments())
    ]
    return data.replace(clients=clients, shipments=shipments)


def _left_out(
    sol: pyvrp.Solution, num_clients: int, num_shipments: int
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the clients and shipments ``sol`` does not serve."""
    miss_c = np.ones(num_clients, dtype=bool)
    miss_s = np.ones(num_shipments, dtype=bool)
    for route in sol.routes():
        for act in route:
            if act.is_client():
                miss_c[act.idx] = False
            elif act.is_pickup():
                miss_s[act.idx] = False
    return miss_c, miss_s


class _Budget:
    """Wall-clock deadline plus an optional cap on PyVRP iterations, shared by rounds."""

    def __init__(self, seconds: float, iterations: int | None) -> None:
        self.deadline = time.monotonic() + seconds
        self.iterations = iterations

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def done(self) -> bool:
        return self.left() <= 0 or (self.iterations is not None and self.iterations <= 0)

    def stop(self, seconds: float, iterations: int) -> pstop.StoppingCriterion:
        """Criterion for one PyVRP run of at most ``seconds`` and ``iterations``."""
        if self.iterations is not None:
            iterations = min(iterations, self.iterations)
        runtime = min(seconds, self.left())
        if not math.isfinite(runtime):  # iteration mode: no clock, iterations alone
            return pstop.MaxIterations(iterations)
        return pstop.MultipleCriteria(
            [pstop.MaxRuntime(max(0.0, runtime)), pstop.MaxIterations(iterations)]
        )

    def spend(self, res: pyvrp.Result) -> None:
        if self.iterations is not None:
            self.iterations -= res.num_iterations


def _run(
    data: pyvrp.ProblemData,
    stop: pstop.StoppingCriterion,
    seed: int,
    params: pyvrp.SolveParams,
    start: list[pyvrp.Route],
) -> pyvrp.Result:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return pyvrp.solve(
            data,
            stop,
            seed=seed,
            collect_stats=False,
            display=False,
            params=params,
            initial_solution=rebuild(data, start) if start else None,
        )


def _penalised(
    data: pyvrp.ProblemData,
    start: list[pyvrp.Route],
    budget: _Budget,
    seed: int,
    params: pyvrp.SolveParams,
    share: float = PENALISED_SHARE,
) -> pyvrp.Solution | None:
    """PyVRP's own way: every client required, lateness penalised, first feasible plan."""
    seconds = share * budget.left()
    iterations = PENALISED_ITERATIONS
    stop = pstop.MultipleCriteria([pstop.FirstFeasible(), budget.stop(seconds, iterations)])
    res = _run(data, stop, seed, params, start)
    budget.spend(res)
    ok = res.best.is_feasible()
    routes = data.vehicle_type(0).num_available
    log.debug("fleet: %d routes %s by penalties, %.1f s", routes, ok, res.runtime)
    return res.best if ok else None


def _absence(
    data: pyvrp.ProblemData,
    start: list[pyvrp.Route],
    budget: _Budget,
    seed: int,
    params: pyvrp.SolveParams,
    stall_seconds: float = math.inf,
) -> pyvrp.Solution | None:
    """A feasible plan of ``data`` serving everyone, by absence rounds, or ``None``.

    Given up after ``STALL_ITERATIONS`` PyVRP iterations, or ``stall_seconds``,
    without fewer left out.
    """
    big = 4 * max(int(m.max(initial=0)) for m in data.distance_matrices()) + 1
    absent_c = np.ones(data.num_clients, dtype=np.int64)
    absent_s = np.ones(data.num_shipments, dtype=np.int64)
    fewest, since, rounds = None, 0, 0
    fewest_at = time.monotonic()
    while (
        since < STALL_ITERATIONS
        and time.monotonic() - fewest_at < stall_seconds
        and not budget.done()
    ):
        trial = _optional(data, big * absent_c, big * absent_s)
        res = _run(trial, budget.stop(math.inf, ROUND_ITERATIONS), seed + rounds, params, start)
        budget.spend(res)
        rounds += 1
        since += res.num_iterations
        sol = res.best
        miss_c, miss_s = _left_out(sol, data.num_clients, data.num_shipments)
        missing = int(miss_c.sum() + miss_s.sum())
        if sol.is_feasible() and missing == 0:
            log.debug("fleet: %d routes after %d absence rounds", sol.num_routes(), rounds)
            return rebuild(data, list(sol.routes()))
        absent_c += miss_c
        absent_s += miss_s
        start = list(sol.routes())
        if fewest is None or missing < fewest:
            fewest, since, fewest_at = missing, 0, time.monotonic()
    log.debug("fleet: gave up after %d rounds, %s left out at best", rounds, fewest)
    return None


def _absence_after_ejection(data: pyvrp.ProblemData, seconds: float, patient: bool) -> bool:
    """Whether absence rounds take over the target the ejection search gave up.

    Only in a ``patient`` search (one of two, :mod:`routing.multistart`) of
    a clients-only model given at least ``ejection.PATIENT_SECONDS`` for its
    fleet phase. There the ejection search keeps its stall rules: it gave
    up Solomon R104's 9 routes with 4-6 clients in its pool, and 24 s of
    patience still left one out, while absence rounds, a different search,
    reached them in every run (3 s and 7 s in the two logged ones;
    2026-12-04, AMD EPYC, ``routing/README.md``). Models with pairs get patience inside the
    ejection search instead.
    """
    from routing.backends import ejection

    return patient and data.num_shipments == 0 and seconds >= ejection.PATIENT_SECONDS


def minimise_fleet(
    data: pyvrp.ProblemData,
    warm: pyvrp.Solution | None,
    seconds: float,
    seed: int,
    params: pyvrp.SolveParams,
    max_iterations: int | None = None,
    patient: bool = False,
) -> tuple[pyvrp.ProblemData, pyvrp.Solution | None]:
    """Fewest routes found for ``data`` (one vehicle type), from ``warm``.

    From the warm plan's route count: each target (one route fewer) drops
    the plan's route with the fewest visits and, from the rest, first lets
    PyVRP look for a feasible plan with lateness penalised (cheap when the
    target is easy, and its plans keep PyVRP's good distances). At the first
    target PyVRP cannot reach, the guided ejection search
    (:func:`routing.backends.ejection.minimise_routes`) takes over and goes
    as far down as it can; where its kernel does not support the model,
    absence rounds (module docstring) try that target instead. It ends at
    the first target given up, at the capacity bound, or after ``seconds``
    (and ``max_iterations`` iterations in all, when set). ``patient`` is
    passed on to the ejection search; on a long run of a clients-only
    model, absence rounds then take up the target it gave up
    (:func:`_absence_after_ejection`).
    Returns (data with the smallest fleet found feasible, its plan);
    unchanged without a feasible warm start.
    """
    fleet = data.vehicle_type(0)
    if warm is None or not warm.is_feasible():
        return data, warm
    budget = _Budget(seconds, max_iterations)
    count = warm.num_routes()
    data = data.replace(vehicle_types=[fleet.replace(num_available=count)])
    best = rebuild(data, list(warm.routes())) or warm
    bound = fleet_bound(data)
    # Imported here: numba loads in ~0.4 s, which only benchmark-like
    # problems (the one caller of this function) should pay.
    from routing.backends import ejection

    ejection_search = ejection.supports(data)
    while count > bound and not budget.done():
        trial = data.replace(vehicle_types=[fleet.replace(num_available=count - 1)])
        routes = sorted(best.routes(), key=lambda r: (r.num_clients(), r.distance()))
        share = PENALISED_SHARE_EJECTION if ejection_search else PENALISED_SHARE
        found = _penalised(trial, routes[1:], budget, seed, params, share)
        if found is None and ejection_search:
            # The first target PyVRP cannot reach: from here on the targets
            # are hard, and the ejection search takes them all.
            found = ejection.minimise_routes(
                data, best, budget.left(), seed, bound, budget.iterations, patient
            )
            if found is not None:
                count = found.num_routes()
                data = data.replace(vehicle_types=[fleet.replace(num_available=count)])
                best = rebuild(data, list(found.routes())) or found
            if count > bound and _absence_after_ejection(data, seconds, patient):
                # Absence rounds, a different search, take the target the
                # ejection search gave up: for at most a share of the time
                # left, and while they keep leaving fewer clients out.
                trial = data.replace(vehicle_types=[fleet.replace(num_available=count - 1)])
                routes = sorted(best.routes(), key=lambda r: (r.num_clients(), r.distance()))
                share = _Budget(PATIENT_ABSENCE_SHARE * budget.left(), budget.iterations)
                stall = PATIENT_ABSENCE_STALL * seconds
                found = _absence(trial, routes[1:], share, seed, params, stall)
                if found is not None:
                    data = trial.replace(
                        vehicle_types=[fleet.replace(num_available=found.num_routes())]
                    )
                    best = rebuild(data, list(found.routes())) or found
            break
        if found is None:
            found = _absence(trial, routes[1:], budget, seed, params)
        if found is None:
            break
        count = found.num_routes()
        data = trial.replace(vehicle_types=[fleet.replace(num_available=count)])
        best = rebuild(data, list(found.routes())) or found
    return data, best
