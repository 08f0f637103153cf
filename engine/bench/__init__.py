"""Benchmarks against public instances and peer solvers.

Routing: :mod:`engine.bench.instances` reads Li & Lim, Solomon and CVRPLIB X files;
:mod:`engine.bench.feasibility` is the runner's own checker; :mod:`engine.bench.peers`
wraps PyVRP, VROOM, OR-Tools and Jessr's :mod:`routing`; :mod:`engine.bench.routing_bench`
is ``jessr bench-routing``; :mod:`engine.bench.routing_report` writes BENCHMARKS.md.
"""
