"""Initial schema: every table of the platform, the audit chain head and its guards.

On PostgreSQL, triggers make the archive append-only (see ``_GUARDS``).

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# PostgreSQL guards of the archive (SQLite has no equivalent: there, tampering is
# what `jessr audit verify` detects).
# - audit_events is append-only: UPDATE, DELETE and TRUNCATE are refused, except an
#   UPDATE that changes nothing but setting `personal` to NULL — the retention
#   purge erasing an event's personal data, which leaves the chain whole because
#   only the digest of `personal` (kept) enters the hash.
# - audit_head only moves forward one event at a time (seq = old seq + 1), and its
#   row cannot be deleted.
# A superuser can still disable triggers; `jessr audit verify` catches what they do.
_GUARDS = [
    """
    CREATE FUNCTION jessr_audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.personal IS NULL
               AND (NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.entity_type, NEW.entity_id,
                    NEW.before, NEW.after, NEW.personal_digest, NEW.prev_hash, NEW.hash)
                   IS NOT DISTINCT FROM
                   (OLD.seq, OLD.at, OLD.actor, OLD.action, OLD.entity_type, OLD.entity_id,
                    OLD.before, OLD.after, OLD.personal_digest, OLD.prev_hash, OLD.hash)
            THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION jessr_audit_events_guard()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION jessr_audit_events_guard()
    """,
    """
    CREATE FUNCTION jessr_audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 THEN
                RETURN NEW;
            END IF;
            -- A bulk append (an import of 100,000 rows) moves the head once, onto
            -- events already stored: every one in between present, the last one's
            -- hash. One step per event would keep 100,000 versions of this row in
            -- one transaction, and each step costs more than the one before.
            IF NEW.id = OLD.id AND NEW.seq > OLD.seq + 1
               AND (SELECT count(*) FROM audit_events
                    WHERE seq > OLD.seq AND seq <= NEW.seq) = NEW.seq - OLD.seq
               AND EXISTS (SELECT 1 FROM audit_events
                           WHERE seq = NEW.seq AND hash = NEW.hash) THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION 'audit_head only advances one event at a time: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION jessr_audit_head_guard()
    """,
    """
    CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION jessr_audit_head_guard()
    """,
]
_DROP_GUARDS = [
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
    "DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head",
    "DROP FUNCTION IF EXISTS jessr_audit_head_guard()",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP FUNCTION IF EXISTS jessr_audit_events_guard()",
]


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("personal", sa.Text(), nullable=True),
        sa.Column("personal_digest", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    op.create_index(
        "ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"], unique=False
    )

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("time_limit", sa.Float(), nullable=True),
        sa.Column("iterations", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("search_record", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("scenario", sa.Text(), nullable=False),
        sa.Column("scenario_sha256", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=False),
        sa.Column("metrics", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'closed', 'superseded')",
            name=op.f("ck_batches_status"),
        ),
        sa.CheckConstraint(
            "iterations IS NULL OR iterations > 0", name=op.f("ck_batches_iterations_positive")
        ),
        sa.CheckConstraint(
            "time_limit IS NULL OR time_limit > 0", name=op.f("ck_batches_time_limit_positive")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["batches.id"], name=op.f("fk_batches_superseded_by_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_index(op.f("ix_batches_date"), "batches", ["date"], unique=False)
    op.create_index(
        "ix_batches_one_draft_per_date",
        "batches",
        ["date"],
        unique=True,
        sqlite_where=sa.text("status = 'draft'"),
        postgresql_where=sa.text("status = 'draft'"),
    )

    op.create_table(
        "categories",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("perishable", sa.Boolean(), nullable=False),
        sa.Column("names", sa.JSON(none_as_null=True), nullable=False),
        sa.CheckConstraint("weight_kg > 0", name=op.f("ck_categories_weight_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
    )
    op.create_table(
        "geocode_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geocode_cache")),
        sa.UniqueConstraint("query", name=op.f("uq_geocode_cache_query")),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_households_pseudonym")),
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("names", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("capital", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organizations.id"],
            name=op.f("fk_organizations_parent_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_organizations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("code", name=op.f("uq_organizations_code")),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("window_start", sa.Time(), nullable=True),
        sa.Column("window_end", sa.Time(), nullable=True),
        sa.Column("filed", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("personal_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'allocated', 'in_transit', 'delivered', 'failed', 'cancelled')",
            name=op.f("ck_requests_status"),
        ),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_requests_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_requests_lon_range")),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name=op.f("ck_requests_priority_range")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_requests_quantity_positive")),
        sa.CheckConstraint(
            "window_start IS NULL OR window_end IS NULL OR window_end >= window_start",
            name=op.f("ck_requests_window_order"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_requests_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_requests_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_requests_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_requests_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("org_id", "ref", name=op.f("uq_requests_org_id_ref")),
    )
    op.create_index(
        "ix_requests_household_category", "requests", ["household_id", "category_id"], unique=False
    )
    op.create_index(op.f("ix_requests_org_id"), "requests", ["org_id"], unique=False)
    op.create_index(op.f("ix_requests_status"), "requests", ["status"], unique=False)

    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_sites_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_sites_lon_range")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_sites_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_sites_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_sites_org_id_code")),
    )
    op.create_index(op.f("ix_sites_org_id"), "sites", ["org_id"], unique=False)

    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("vehicle", sa.String(length=100), nullable=True),
        sa.Column("capacity_kg", sa.Float(), nullable=False),
        sa.Column("home_lat", sa.Float(), nullable=False),
        sa.Column("home_lon", sa.Float(), nullable=False),
        sa.Column("shift_start", sa.Time(), nullable=False),
        sa.Column("shift_end", sa.Time(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("days", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("personal_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity_kg > 0", name=op.f("ck_volunteers_capacity_positive")),
        sa.CheckConstraint("home_lat BETWEEN -90 AND 90", name=op.f("ck_volunteers_lat_range")),
        sa.CheckConstraint("home_lon BETWEEN -180 AND 180", name=op.f("ck_volunteers_lon_range")),
        sa.CheckConstraint("shift_end > shift_start", name=op.f("ck_volunteers_shift_order")),
        sa.CheckConstraint(
            "speed_kmh IS NULL OR speed_kmh > 0", name=op.f("ck_volunteers_speed_positive")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_volunteers_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("org_id", "ref", name=op.f("uq_volunteers_org_id_ref")),
    )
    op.create_index(op.f("ix_volunteers_org_id"), "volunteers", ["org_id"], unique=False)

    op.create_table(
        "supply_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("region_code", sa.String(length=16), nullable=True),
        sa.Column("quantity_received", sa.Integer(), nullable=False),
        sa.Column("quantity_reserved", sa.Integer(), nullable=False),
        sa.Column("quantity_delivered", sa.Integer(), nullable=False),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("donor", sa.String(length=300), nullable=True),
        sa.Column("regions", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lat IS NULL OR lat BETWEEN -90 AND 90", name=op.f("ck_supply_lots_lat_range")
        ),
        sa.CheckConstraint(
            "lon IS NULL OR lon BETWEEN -180 AND 180", name=op.f("ck_supply_lots_lon_range")
        ),
        sa.CheckConstraint(
            "quantity_delivered >= 0", name=op.f("ck_supply_lots_delivered_nonnegative")
        ),
        sa.CheckConstraint(
            "quantity_received >= 0", name=op.f("ck_supply_lots_received_nonnegative")
        ),
        sa.CheckConstraint(
            "quantity_reserved + quantity_delivered <= quantity_received",
            name=op.f("ck_supply_lots_within_received"),
        ),
        sa.CheckConstraint(
            "quantity_reserved >= 0", name=op.f("ck_supply_lots_reserved_nonnegative")
        ),
        sa.CheckConstraint(
            "site_id IS NOT NULL OR (lat IS NOT NULL AND lon IS NOT NULL "
            "AND region_code IS NOT NULL)",
            name=op.f("ck_supply_lots_located"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_supply_lots_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_supply_lots_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_supply_lots_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_supply_lots_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_lots")),
        sa.UniqueConstraint("org_id", "ref", name=op.f("uq_supply_lots_org_id_ref")),
    )
    op.create_index(
        op.f("ix_supply_lots_category_id"), "supply_lots", ["category_id"], unique=False
    )
    op.create_index(op.f("ix_supply_lots_org_id"), "supply_lots", ["org_id"], unique=False)
    op.create_index(op.f("ix_supply_lots_site_id"), "supply_lots", ["site_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'coordinator', 'staff', 'volunteer')", name=op.f("ck_users_role")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_users_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_users_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("volunteer_id", name=op.f("uq_users_volunteer_id")),
    )
    op.create_index(op.f("ix_users_org_id"), "users", ["org_id"], unique=False)

    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("pickup_position", sa.Integer(), nullable=True),
        sa.Column("delivery_position", sa.Integer(), nullable=True),
        sa.Column("unrouted_reason", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'picked_up', 'delivered', 'failed', 'cancelled')",
            name=op.f("ck_allocations_status"),
        ),
        sa.CheckConstraint(
            "pickup_position IS NULL OR delivery_position IS NULL "
            "OR pickup_position < delivery_position",
            name=op.f("ck_allocations_pickup_before_delivery"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_allocations_quantity_positive")),
        sa.CheckConstraint(
            "volunteer_id IS NULL OR unrouted_reason IS NULL",
            name=op.f("ck_allocations_routed_or_unrouted"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_allocations_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["supply_lots.id"], name=op.f("fk_allocations_lot_id_supply_lots")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_allocations_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_allocations_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
        sa.UniqueConstraint("batch_id", "plan_id", name=op.f("uq_allocations_batch_id_plan_id")),
    )
    op.create_index(op.f("ix_allocations_batch_id"), "allocations", ["batch_id"], unique=False)
    op.create_index(op.f("ix_allocations_lot_id"), "allocations", ["lot_id"], unique=False)
    op.create_index(op.f("ix_allocations_request_id"), "allocations", ["request_id"], unique=False)
    op.create_index(
        op.f("ix_allocations_volunteer_id"), "allocations", ["volunteer_id"], unique=False
    )

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('picked_up', 'delivered', 'failed')", name=op.f("ck_deliveries_kind")
        ),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["allocations.id"],
            name=op.f("fk_deliveries_allocation_id_allocations"),
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_deliveries_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(
        op.f("ix_deliveries_allocation_id"), "deliveries", ["allocation_id"], unique=False
    )

    op.create_table(
        "instance_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_settings")),
    )
    # The chain starts empty: seq 0, the genesis hash (engine.models.audit.GENESIS_HASH).
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.BigInteger),
            sa.column("hash", sa.String),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _GUARDS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DROP_GUARDS:
            op.execute(statement)
    op.drop_table("instance_settings")
    op.drop_index(op.f("ix_deliveries_allocation_id"), table_name="deliveries")

    op.drop_table("deliveries")
    op.drop_index(op.f("ix_allocations_volunteer_id"), table_name="allocations")
    op.drop_index(op.f("ix_allocations_request_id"), table_name="allocations")
    op.drop_index(op.f("ix_allocations_lot_id"), table_name="allocations")
    op.drop_index(op.f("ix_allocations_batch_id"), table_name="allocations")

    op.drop_table("allocations")
    op.drop_index(op.f("ix_users_org_id"), table_name="users")

    op.drop_table("users")
    op.drop_index(op.f("ix_supply_lots_site_id"), table_name="supply_lots")
    op.drop_index(op.f("ix_supply_lots_org_id"), table_name="supply_lots")
    op.drop_index(op.f("ix_supply_lots_category_id"), table_name="supply_lots")

    op.drop_table("supply_lots")
    op.drop_index(op.f("ix_volunteers_org_id"), table_name="volunteers")

    op.drop_table("volunteers")
    op.drop_index(op.f("ix_sites_org_id"), table_name="sites")

    op.drop_table("sites")
    op.drop_index(op.f("ix_requests_status"), table_name="requests")
    op.drop_index(op.f("ix_requests_org_id"), table_name="requests")
    op.drop_index("ix_requests_household_category", table_name="requests")

    op.drop_table("requests")
    op.drop_table("organizations")
    op.drop_table("regions")
    op.drop_table("households")
    op.drop_table("geocode_cache")
    op.drop_table("categories")
    op.drop_index(
        "ix_batches_one_draft_per_date",
        table_name="batches",
        sqlite_where=sa.text("status = 'draft'"),
        postgresql_where=sa.text("status = 'draft'"),
    )
    op.drop_index(op.f("ix_batches_date"), table_name="batches")

    op.drop_table("batches")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_events_entity", table_name="audit_events")

    op.drop_table("audit_events")
