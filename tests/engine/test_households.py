"""Household pseudonyms: one family, one pseudonym, under one key only."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.households import KEY_BYTES, load_or_create_key, normalise, pseudonym

KEY = b"k" * 32


def test_same_identifier_from_two_organizations_is_one_pseudonym() -> None:
    # Two organizations write the same national ID their own way.
    crt = pseudonym(KEY, " 0812 3456 ")
    sanad = pseudonym(KEY, "08-123-456")
    assert crt == sanad
    assert len(crt) == 64 and int(crt, 16) >= 0
    assert "08123456" not in crt


def test_normalisation() -> None:
    assert normalise("AB\u2013 12 34") == "ab1234"  # en dash, spaces, case
    assert normalise("\u0660\u0668\u0661\u0662") == "0812"  # Arabic-Indic digits
    assert normalise("\uff10\uff18") == "08"  # full-width digits
    assert normalise("A.1") != normalise("A1")  # other punctuation is kept
    with pytest.raises(ValueError, match="empty"):
        normalise(" - ")


def test_different_identifiers_or_keys_differ() -> None:
    assert pseudonym(KEY, "08123456") != pseudonym(KEY, "08123457")
    assert pseudonym(KEY, "08123456") != pseudonym(b"j" * 32, "08123456")


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "household.key"
    key = load_or_create_key(path, environ={})
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path, environ={}) == key  # read back, not replaced
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
    assert load_or_create_key(tmp_path / "other.key", environ={}) != key


def test_concurrent_creation_yields_one_key(tmp_path: Path) -> None:
    path = tmp_path / "household.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create_key(path, environ={}), range(16)))
    assert keys == {path.read_bytes()}


def test_environment_key_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "household.key"
    hex_key = "ab" * 32
    assert load_or_create_key(path, environ={"JESSR_HOUSEHOLD_KEY": hex_key}) == bytes.fromhex(
        hex_key
    )
    assert load_or_create_key(path, environ={"JESSR_HOUSEHOLD_KEY": "test-key"}) == b"test-key"
    assert not path.exists()  # nothing written when the key comes from the environment
    with pytest.raises(ValueError, match="JESSR_HOUSEHOLD_KEY is set but empty"):
        load_or_create_key(path, environ={"JESSR_HOUSEHOLD_KEY": ""})


def test_short_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "household.key"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"household\.key: the household key is too short"):
        load_or_create_key(path, environ={})
