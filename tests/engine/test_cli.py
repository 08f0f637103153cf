"""The ``jessr`` command line: plans written valid, bad input refused with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.checker import check_plan
from engine.cli import main
from engine.generate import generate_scenario
from engine.scenario.reader import load_scenario


@pytest.fixture
def day(tmp_path: Path):
    def make(requests=120, supplies=25, volunteers=0, seed=4) -> Path:
        doc = generate_scenario(
            requests=requests, supplies=supplies, volunteers=volunteers, seed=seed
        )
        path = tmp_path / f"day-{requests}-{volunteers}-{seed}.json"
        path.write_text(json.dumps(doc))
        return path

    return make


def test_solve_without_volunteers_writes_a_valid_plan(day, tmp_path, capsys):
    scenario = day()
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(scenario), "-o", str(plan_path)]) == 0
    plan = json.loads(plan_path.read_text())
    report = check_plan(load_scenario(scenario), plan)
    assert report.valid, report.violations[:5]
    assert plan["routes"] == []
    assert {u["reason"] for u in plan["unrouted"]} == {"no_volunteers"}
    assert len(plan["unrouted"]) == len(plan["allocations"]) > 0
    out = capsys.readouterr().out
    assert "Allocated value" in out and "By priority" in out and "Least served regions" in out
    assert "Unmet:" in out


def test_solve_with_volunteers_routes_validly(day, tmp_path, capsys):
    scenario = day(requests=60, supplies=12, volunteers=6)
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(scenario), "-o", str(plan_path), "--time-limit", "3"]) == 0
    plan = json.loads(plan_path.read_text())
    report = check_plan(load_scenario(scenario), plan)
    assert report.valid, report.violations[:5]
    assert plan["routes"], "six volunteers on a small day should carry something"
    assert report.delivered_value == pytest.approx(plan["metrics"]["delivered_value"], rel=1e-6)
    assert "Delivered value" in capsys.readouterr().out


def test_invalid_scenario_exits_2_and_writes_nothing(day, tmp_path, capsys):
    scenario = day()
    doc = json.loads(scenario.read_text())
    doc["requests"][17]["quantity"] = -3
    scenario.write_text(json.dumps(doc))
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(scenario), "-o", str(plan_path)]) == 2
    err = capsys.readouterr().err
    assert 'requests[17] (id "R18"): quantity' in err
    assert "Traceback" not in err
    assert not plan_path.exists()


def test_invalid_scenario_leaves_an_existing_plan_untouched(day, tmp_path):
    scenario = day()
    plan_path = tmp_path / "plan.json"
    plan_path.write_text("previous plan")
    scenario.write_text("{ not json")
    assert main(["solve", str(scenario), "-o", str(plan_path)]) == 2
    assert plan_path.read_text() == "previous plan"


def test_missing_scenario_file_exits_2(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "nope.json"), "-o", str(tmp_path / "p.json")]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_generate_then_check(tmp_path, capsys):
    out = tmp_path / "g.json"
    assert (
        main(["generate", "--requests", "50", "--supplies", "9", "--seed", "2", "-o", str(out)])
        == 0
    )
    assert len(load_scenario(out).requests) == 50
    plan = tmp_path / "p.json"
    assert main(["solve", str(out), "-o", str(plan), "-q"]) == 0
    capsys.readouterr()
    assert main(["check", str(out), str(plan)]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_bad_arguments_exit_2_in_one_line(capsys):
    assert main(["solve", "x.json", "-o", "p.json", "--time-limit", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jessr: --time-limit: ") and err.count("\n") == 1
    assert main(["no-such-command"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308", "86400.5", "0", "abc"])
def test_time_limit_must_be_finite_positive_and_at_most_a_day(value, capsys):
    assert main(["solve", "x.json", "-o", "p.json", "--time-limit", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jessr: --time-limit: ") and err.count("\n") == 1


def test_output_onto_the_scenario_is_refused(day, tmp_path, capsys):
    scenario = day()
    before = scenario.read_bytes()
    link = tmp_path / "link.json"
    link.symlink_to(scenario)
    for target in (scenario, tmp_path / "." / scenario.name, link):
        assert main(["solve", str(scenario), "-o", str(target), "-q"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"jessr: {target}: output is the scenario file itself")
        assert err.count("\n") == 1
    assert scenario.read_bytes() == before


def test_every_error_listed_first_one_first(day, tmp_path, capsys):
    scenario = day()
    doc = json.loads(scenario.read_text())
    doc["requests"][17]["quantity"] = -3
    doc["requests"][20]["priority"] = 9
    scenario.write_text(json.dumps(doc))
    assert main(["solve", str(scenario), "-o", str(tmp_path / "p.json")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        'jessr: requests[17] (id "R18"): quantity must be a positive integer, got -3',
        'jessr: requests[20] (id "R21"): priority must be an integer from 1 to 5, got 9',
    ]


def test_many_errors_are_counted_after_twenty(day, tmp_path, capsys):
    scenario = day()
    doc = json.loads(scenario.read_text())
    for rec in doc["requests"][:50]:
        rec["quantity"] = 0
    scenario.write_text(json.dumps(doc))
    assert main(["solve", str(scenario), "-o", str(tmp_path / "p.json")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 21
    assert lines[0].startswith('jessr: requests[0] (id "R1"): quantity must be')
    assert lines[-1] == "jessr: … and 30 more errors"


def test_lone_surrogate_id_is_refused_at_read(day, tmp_path, capsys):
    scenario = day()
    doc = json.loads(scenario.read_text())
    doc["requests"][0]["id"] = "R\ud800"
    scenario.write_text(json.dumps(doc))  # ASCII JSON: the surrogate is a \ud800 escape
    plan = tmp_path / "p.json"
    assert main(["solve", str(scenario), "-o", str(plan)]) == 2
    err = capsys.readouterr().err
    assert err == (
        'jessr: requests[0] (id "R\\ud800"): id must be valid Unicode text, '
        "got a lone surrogate at character 1\n"
    )
    assert not plan.exists()
