"""The database layer: migrations match the models, upgrade is idempotent, an
un-migrated database is refused in one line, SQLite runs in WAL with foreign keys,
and the CHECK constraints hold whatever the code does."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

import engine.models  # noqa: F401  (every table on Base.metadata)
from engine.db.base import Base
from engine.db.migrate import alembic_config, head_revision
from engine.models import Batch, Category, Organization, Region, SupplyLot


def test_migrations_match_the_models(database):
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_then_upgrade_round_trips(database):
    config = alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    assert database.cli("db", "upgrade").code == 0
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_creates_the_schema_and_is_idempotent(empty_database):
    first = empty_database.cli("db", "upgrade")
    assert first.code == 0, first.err
    assert f"to {head_revision()}" in first.out
    assert "24 regions" in first.out
    again = empty_database.cli("db", "upgrade")
    assert again.code == 0, again.err
    assert "already at revision" in again.out
    assert "reference data" not in again.out  # nothing to sync the second time
    with empty_database.session() as s:
        assert s.scalar(select(func.count()).select_from(Region)) == 24
        assert s.get(Category, "food.basket").weight_kg == 15.0
        assert s.get(Region, "TN-42").names["fr"]


@pytest.mark.parametrize(
    "argv",
    [
        ("audit", "verify"),
        ("audit", "head"),
        ("org", "add", "crt", "--name", "CRT", "--region", "TN-11"),
        ("user", "add", "a@b.org", "--role", "admin"),
    ],
)
def test_commands_refuse_an_unmigrated_database_in_one_line(empty_database, argv):
    result = empty_database.cli(*argv)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "jessr db upgrade" in lines[0], result.err
    assert "Traceback" not in result.err
    if empty_database.kind == "sqlite":  # the check creates no file
        assert not (empty_database.workdir / "var" / "jessr.db").exists()


def test_an_unreachable_database_is_one_line_exit_2(tmp_path):
    from tests.platform.conftest import TestDatabase

    db = TestDatabase("postgresql", "postgresql://nobody@127.0.0.1:9/none", tmp_path)
    result = db.cli("audit", "head")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "cannot open the database" in result.err


def test_a_database_at_another_revision_is_refused(database):
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    result = database.cli("audit", "head")
    assert result.code == 2
    assert "revision 0000" in result.err and "jessr db upgrade" in result.err


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database):
    if database.kind != "sqlite":
        pytest.skip("SQLite pragmas")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_foreign_keys_are_enforced(database):
    with database.session() as s:
        s.add(Organization(code="x", name="X", region_code="XX-99"))
        with pytest.raises(IntegrityError):
            s.flush()


def _lot(s, **quantities):
    org = Organization(code="crt", name="CRT", region_code="TN-11")
    s.add(org)
    s.flush()
    lot = SupplyLot(
        org_id=org.id,
        ref="L1",
        category_id="food.basket",
        lat=36.8,
        lon=10.18,
        region_code="TN-11",
        **quantities,
    )
    s.add(lot)
    s.flush()
    return lot


@pytest.mark.parametrize(
    "quantities",
    [
        {"quantity_received": 10, "quantity_reserved": 6, "quantity_delivered": 5},
        {"quantity_received": 10, "quantity_reserved": -1},
        {"quantity_received": 10, "quantity_delivered": -1},
        {"quantity_received": -1},
        {"quantity_received": 10, "quantity_reserved": 11},
    ],
)
def test_stock_constraints_refuse_over_allocation_and_negative_stock(database, quantities):
    with database.session() as s, pytest.raises(IntegrityError):
        _lot(s, **quantities)


def test_stock_at_the_limit_is_accepted_and_a_conditional_update_stops_there(database):
    with database.session() as s:
        lot = _lot(s, quantity_received=10, quantity_reserved=6, quantity_delivered=4)
        assert lot.quantity_available == 0
        s.commit()
        table = SupplyLot.__table__
        reserve = (
            table.update()
            .where(
                table.c.id == lot.id,
                table.c.quantity_reserved + table.c.quantity_delivered + 1
                <= table.c.quantity_received,
            )
            .values(quantity_reserved=table.c.quantity_reserved + 1)
        )
        assert s.execute(reserve).rowcount == 0
        with pytest.raises(IntegrityError):  # and the CHECK stops a blind update
            s.execute(table.update().values(quantity_reserved=table.c.quantity_reserved + 1))


def test_a_lot_needs_a_site_or_coordinates_and_region(database):
    with database.session() as s:
        org = Organization(code="crt", name="CRT", region_code="TN-11")
        s.add(org)
        s.flush()
        s.add(SupplyLot(org_id=org.id, ref="L1", category_id="food.basket", quantity_received=1))
        with pytest.raises(IntegrityError):
            s.flush()


def test_one_draft_per_date(database):
    from datetime import date

    def draft():
        return Batch(
            date=date(2026, 11, 28),
            status="draft",
            scenario="{}",
            scenario_sha256="0" * 64,
            plan="{}",
            plan_sha256="0" * 64,
            created_by="test",
        )

    with database.session() as s:
        first = draft()
        s.add(first)
        s.flush()
        first.status = "superseded"
        s.add(draft())
        s.flush()  # a new draft once the old one is superseded
        s.add(draft())
        with pytest.raises(IntegrityError):
            s.flush()


def test_no_table_has_a_clear_household_identifier_column(database):
    inspector = inspect(database.engine)
    assert [c["name"] for c in inspector.get_columns("households")] == [
        "id",
        "pseudonym",
        "created_at",
    ]
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            assert "identifier" not in column["name"] and "national" not in column["name"]


def test_concurrent_upgrades_serialise(empty_database):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, **empty_database.env(), "PYTHONPATH": str(root)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "db", "upgrade"],
            cwd=empty_database.workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert sum("upgraded from empty" in out for out, _ in outs) == 1
    with empty_database.session() as s:
        assert s.scalar(select(func.count()).select_from(Region)) == 24
    assert empty_database.cli("audit", "verify").code == 0


def test_begin_write_takes_the_sqlite_write_lock_first(database):
    from engine.db.session import begin_write

    with database.session() as s:
        begin_write(s)
        if database.kind == "sqlite":
            assert s.connection().connection.dbapi_connection.in_transaction
            with database.engine.connect() as other:  # another writer cannot start now
                other.exec_driver_sql("PRAGMA busy_timeout = 0")
                with pytest.raises(OperationalError, match="locked"):
                    other.exec_driver_sql("BEGIN IMMEDIATE")
        s.add(Organization(code="crt", name="CRT", region_code="TN-11"))
        s.commit()
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 1


def test_another_household_key_is_refused(database):
    from engine.errors import InputError
    from engine.keys import check_household_key

    with database.session() as s:
        check_household_key(s, b"first key")
        s.commit()
        check_household_key(s, b"first key")
        with pytest.raises(InputError, match="JESSR_HOUSEHOLD_KEY"):
            check_household_key(s, b"another key")


class _Aborted(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"aborted ({sqlstate})")
        self.sqlstate = sqlstate


def test_run_retries_transient_aborts_and_writes_once(database):
    from sqlalchemy.exc import OperationalError as DbOperationalError

    from engine.db.session import Database

    db = Database(database.engine)
    calls = []

    def work(session):
        calls.append(1)
        session.add(Organization(code=f"o{len(calls)}", name="O", region_code="TN-11"))
        session.flush()
        if len(calls) < 3:  # the first two attempts are aborted after writing
            raise DbOperationalError("COMMIT", {}, _Aborted("40001" if calls == [1] else "40P01"))
        return "done"

    assert db.run(work) == "done"
    with database.session() as s:
        assert s.execute(select(Organization.code)).scalars().all() == ["o3"]


def test_run_gives_up_with_a_conflict_and_passes_other_errors(database):
    from sqlalchemy.exc import OperationalError as DbOperationalError

    from engine.db.session import Database
    from engine.errors import ConflictError

    db = Database(database.engine)

    def always(session):
        raise DbOperationalError("COMMIT", {}, _Aborted("40001"))

    with pytest.raises(ConflictError, match="nothing written"):
        db.run(always, attempts=2)

    def broken(session):
        raise DbOperationalError("SELECT", {}, _Aborted("42P01"))

    with pytest.raises(DbOperationalError):
        db.run(broken)
