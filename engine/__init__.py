"""Jessr engine: everything stateful (exchange format, persistence, batch, CLI).

The pure solvers live in :mod:`matching` and :mod:`routing`; this package turns
the outside world into their frozen problem objects and their results back into
plans.
"""
