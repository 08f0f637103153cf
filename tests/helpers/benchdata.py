"""Where the public routing benchmark instances are, if anywhere.

The project never needs them: tests that read them skip without them. Looked
up in ``$JESSR_BENCHMARKS`` when set (an empty or missing folder means
"absent", which is how the skip path is exercised), else ``shared/benchmarks``
beside the checkout (CI's layout), else ``/work/shared/benchmarks``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bench_dir() -> Path | None:
    """The benchmark folder, or None when it is not available."""
    override = os.environ.get("JESSR_BENCHMARKS")
    candidates = (
        [Path(override)]
        if override is not None
        else [REPO.parent / "shared" / "benchmarks", Path("/work/shared/benchmarks")]
    )
    for candidate in candidates:
        if (candidate / "pdptw" / "bks_lilim.csv").is_file():
            return candidate
    return None
