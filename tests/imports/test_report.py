"""The import report: the spec's JSON shape and the one-line-per-error text."""

from __future__ import annotations

import json

from engine.imports.issues import HIDDEN, ImportIssue
from engine.imports.report import Counts, ImportReport


def test_error_line_format() -> None:
    issue = ImportIssue(7, "quantity", "-3", "must be a positive integer")
    assert str(issue) == 'row 7, column quantity, value "-3": must be a positive integer'
    assert str(ImportIssue(1, "org", None, "missing required column")) == (
        "row 1, column org, value (empty): missing required column"
    )
    assert str(ImportIssue(4, "household", HIDDEN, "missing value")).endswith(
        "value (hidden): missing value"
    )


def test_json_shape_of_a_rejected_file() -> None:
    report = ImportReport.rejected(
        "inventory",
        "lots.csv",
        [
            ImportIssue(9, "category", "x", "unknown category"),
            ImportIssue(1, "site", None, "missing place columns"),
            ImportIssue(7, "quantity", "-3", "must be a positive integer"),
        ],
    )
    doc = json.loads(report.json_text())
    assert doc == {
        "ok": False,
        "counts": {"new": 0, "updated": 0, "unchanged": 0},
        "errors": [
            {"row": 1, "column": "site", "value": None, "reason": "missing place columns"},
            {"row": 7, "column": "quantity", "value": "-3", "reason": "must be a positive integer"},
            {"row": 9, "column": "category", "value": "x", "reason": "unknown category"},
        ],
    }
    assert report.lines() == [
        "lots.csv: rejected, 3 errors (nothing written)",
        "row 1, column site, value (empty): missing place columns",
        'row 7, column quantity, value "-3": must be a positive integer',
        'row 9, column category, value "x": unknown category',
    ]


def test_preview_and_commit_summaries() -> None:
    counts = Counts(new=3, updated=1, unchanged=2)
    preview = ImportReport("requests", "day.xlsx", counts)
    assert preview.ok
    assert preview.to_json() == {
        "ok": True,
        "counts": {"new": 3, "updated": 1, "unchanged": 2},
        "errors": [],
    }
    assert preview.text() == (
        "day.xlsx: preview of requests: 3 new, 1 updated, 2 unchanged "
        "(nothing written; --commit applies)"
    )
    done = ImportReport("requests", "day.xlsx", counts, committed=True)
    assert done.text() == "day.xlsx: imported requests: 3 new, 1 updated, 2 unchanged"


def test_long_values_are_echoed_shortened() -> None:
    from engine.imports.issues import echo

    value = echo("é" * 100)
    assert value == "é" * 40 + "…"
    line = str(ImportIssue(2, "name", value, "must be at most 200 characters, got 100"))
    assert line.count("é") == 40
