"""Benchmarks against public instances and peer solvers.

Routing: :mod:`bench.instances` reads Li & Lim, Solomon and CVRPLIB X files;
:mod:`bench.feasibility` is the runner's own checker; :mod:`bench.peers`
wraps PyVRP, VROOM, OR-Tools and Jessr's :mod:`routing`; :mod:`bench.routing_bench`
is ``jessr bench-routing``; :mod:`bench.routing_report` writes BENCHMARKS.md.
"""
