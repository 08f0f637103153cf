"""Shared builders and assertions of the test suite (the one place for them).

* :mod:`tests.helpers.routing`: random routing problems (matrix and
  geographic), the greedy-insertion baseline, and ``assert_valid``.
* :mod:`tests.helpers.days`: the plan check of an engine outcome.
* :mod:`tests.helpers.pyvrp_models`: small PyVRP models for the compiled
  kernels (ejection search, ruin and recreate).
* :mod:`tests.helpers.lilim`: a tiny Li & Lim reader and best-known solutions.
* :mod:`tests.helpers.benchdata`: where the public benchmark instances are.

Test modules import from here, never from one another; ``conftest.py`` files
hold fixtures only.
"""
