"""Settings: defaults under the working directory, key files generated once (0600),
environment overrides, bad values refused in one line."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import Settings
from engine.errors import InputError


def test_defaults_live_under_the_working_directory(tmp_path: Path):
    s = Settings.from_env({}, cwd=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path.resolve()}/var/jessr.db"
    assert s.geocoder is None and s.broker_url is None
    assert s.retention_days == 180 and s.duplicate_window_days == 14


def test_environment_overrides(tmp_path: Path):
    s = Settings.from_env(
        {
            "JESSR_DATABASE_URL": "postgresql://x@h/db",
            "JESSR_GEOCODER": "nominatim+http://127.0.0.1:8080",
            "JESSR_RETENTION_DAYS": "30",
            "JESSR_DUPLICATE_WINDOW_DAYS": "7",
            "JESSR_HOUSEHOLD_KEY": "k",
            "JESSR_ACTOR": "coordinator@example.org",
        },
        cwd=tmp_path,
    )
    assert s.database_url == "postgresql://x@h/db"
    assert s.retention_days == 30 and s.duplicate_window_days == 7
    assert s.household_key == b"k" and s.actor == "coordinator@example.org"
    hex_key = "ab" * 32  # 64 hex digits: the key's bytes, as `openssl rand -hex 32` prints
    assert Settings.from_env({"JESSR_HOUSEHOLD_KEY": hex_key}).household_key == bytes(32 * [0xAB])
    assert not (tmp_path / "var").exists()  # an environment key writes no file


def test_key_files_are_generated_once_private(tmp_path: Path):
    s = Settings.from_env({}, cwd=tmp_path)
    key = s.household_key
    assert len(key) == 32
    path = tmp_path / "var" / "household.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings.from_env({}, cwd=tmp_path).household_key == key
    assert s.secret_key != key
    assert stat.S_IMODE((tmp_path / "var" / "secret.key").stat().st_mode) == 0o600


def test_processes_starting_at_once_share_one_key(tmp_path: Path):
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from engine.config import Settings; "
        "print(Settings.from_env({}, cwd=sys.argv[2]).household_key.hex())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(root), str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["household.key"]


@pytest.mark.parametrize("value", ["x", "-1", "1.5"])
def test_bad_numbers_are_refused(tmp_path: Path, value: str):
    with pytest.raises(InputError, match="JESSR_RETENTION_DAYS"):
        Settings.from_env({"JESSR_RETENTION_DAYS": value}, cwd=tmp_path)


def test_a_bad_setting_is_one_line_exit_2(database, monkeypatch):
    monkeypatch.setenv("JESSR_DUPLICATE_WINDOW_DAYS", "soon")
    result = database.cli("audit", "head")
    assert result.code == 2
    assert (
        result.err.strip()
        == "jessr: JESSR_DUPLICATE_WINDOW_DAYS: expected a whole number of days, got 'soon'"
    )


def test_db_upgrade_creates_the_default_database_under_var(tmp_path: Path, monkeypatch, capsys):
    from engine.cli import main

    monkeypatch.delenv("JESSR_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["audit", "head"]) == 2
    assert "jessr db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "var" / "jessr.db").is_file()
    assert stat.S_IMODE((tmp_path / "var" / "jessr.db").stat().st_mode) == 0o600
    assert main(["audit", "verify"]) == 0
