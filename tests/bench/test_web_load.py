"""``bench/web_load.py``: reading locust's statistics and writing the section.

The load itself needs PostgreSQL, a server and locust, for minutes; it is a
benchmark (``make bench-web``), not a test. These check the parts that turn its
output into BENCHMARKS.md.
"""

from __future__ import annotations

from pathlib import Path

from bench.report import markers
from bench.web_load import SECTION, read_failures, read_stats, render

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)
ROWS = [
    "GET,GET /volunteer/ (route page),2336,0,26,40.1,5,900,1300,39.2,0.0,"
    "26,41,60,80,120,190,250,310,800,900,900",
    "POST,POST /login (sign in),0,0,0,0.0,0,0,0,0.0,0.0," + ",".join(["N/A"] * 11),
    ",Aggregated,2336,0,26,40.1,5,900,1300,39.2,0.0,26,41,60,80,120,190,250,310,800,900,900",
]


def test_locust_statistics_are_read_and_unused_rows_left_out(tmp_path: Path) -> None:
    prefix = tmp_path / "locust"
    Path(f"{prefix}_stats.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    stats = read_stats(prefix)
    assert [row["name"] for row in stats] == ["GET /volunteer/ (route page)", "Aggregated"]
    assert stats[0]["p50"] == 26 and stats[0]["p95"] == 190 and stats[0]["count"] == 2336
    assert read_failures(prefix) == []


def test_the_section_has_both_phases_and_the_page_weight() -> None:
    stats = [
        {
            "type": "GET",
            "name": "GET /volunteer/ (route page)",
            "count": 2336,
            "failures": 0,
            "p50": 26.0,
            "p95": 190.0,
            "p99": 310.0,
            "mean": 40.1,
            "rps": 39.2,
        }
    ]
    result = {
        "date": "2026-12-07",
        "args": {
            "workers": 2,
            "threads": 4,
            "requests": 2500,
            "supplies": 375,
            "volunteers": 250,
            "duration": 60,
            "spawn_rate": 20.0,
            "note": "A note.",
        },
        "postgres": "15.2",
        "routed": 210,
        "volunteer_users": 200,
        "coordinator_users": 20,
        "stats": stats,
        "errors": 0,
        "requests": 2336,
        "error_kinds": [],
        "bytes": {"html": 2048, "css": 4096, "js": 1024, "gzip": 2000, "files": 2, "total": 7168},
        "signin": {
            "users": 220,
            "seconds": 106.0,
            "requests": {
                "POST /login (sign in)": {
                    "count": 220,
                    "failures": 0,
                    "p50": 33000,
                    "p95": 86000,
                    "p99": 90000,
                }
            },
        },
    }
    section = render(result)
    start, end = markers(SECTION)
    assert section.startswith(start) and section.rstrip().endswith(end)
    assert "| POST /login (sign in) | 220 | 0 | 33000 ms | 86000 ms | 90000 ms |" in section
    assert "| GET /volunteer/ (route page) | 2336 | 0 | 26 ms | 190 ms | 310 ms | 39.2 |" in section
    assert "**7.0 KiB**" in section and "the last had its page after 106 s" in section
    assert "A note." in section
