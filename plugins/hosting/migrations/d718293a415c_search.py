"""hosting: quick-search indexes (PostgreSQL trigram, SQLite FTS5)

Adds what the quick search needs: ``hosting_miners.ip``, ``hosting_sites.credential_mode``
and the text index over the searched miner columns.

- PostgreSQL: the ``pg_trgm`` extension, created in the ``public`` schema (the tests build
  each run in a schema of its own that is dropped afterwards; an extension must outlive it),
  and a GIN trigram index on each of serial, MAC, worker, model and IP, which serve
  ``ILIKE '%q%'`` (a BitmapOr over the five).
- SQLite: an external-content FTS5 table with the trigram tokenizer (SQLite >= 3.34) over the
  same columns, kept in sync by triggers on ``hosting_miners``. The model's indexes of the same
  names exist here only as empty partial indexes (``WHERE 0``) so models and migrations agree.

Revision ID: d718293a415c
Revises: c6071829304b
Create Date: 2026-12-03 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "d718293a415c"
down_revision = "c6071829304b"
branch_labels = None
depends_on = None

COLUMNS = ("serial", "mac", "pool_worker", "model_name", "ip")
FTS = "hosting_miners_fts"
MODES = "credential_mode IN ('masked', 'encrypted', 'device')"


def _sqlite_fts_up() -> None:
    cols = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS} USING fts5({cols}, content='hosting_miners', "
        "content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON hosting_miners BEGIN "  # noqa: S608
        f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON hosting_miners BEGIN "  # noqa: S608
        f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER {FTS}_au AFTER UPDATE OF {cols} ON hosting_miners BEGIN "  # noqa: S608
        f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    # Index the miners that are already there. (Every name in these statements is a constant
    # of this file, nothing comes from input: hence the S608 waivers.)
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")  # noqa: S608


def _sqlite_fts_down() -> None:
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {FTS}")


def _trgm_schema(bind) -> str:
    """The schema holding pg_trgm (created in ``public`` when missing)."""
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    return bind.scalar(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    )


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("hosting_miners") as batch:
        batch.add_column(sa.Column("ip", sa.String(length=45), nullable=True))
    with op.batch_alter_table("hosting_sites") as batch:
        batch.add_column(
            sa.Column(
                "credential_mode", sa.String(length=16), server_default="masked", nullable=False
            )
        )
        batch.create_check_constraint(op.f("ck_hosting_sites_credential_mode"), MODES)
    if bind.dialect.name == "postgresql":
        schema = _trgm_schema(bind)
        for column in COLUMNS:
            op.create_index(
                f"ix_hosting_miners_{column}_trgm",
                "hosting_miners",
                [column],
                postgresql_using="gin",
                postgresql_ops={column: f"{schema}.gin_trgm_ops"},
            )
    else:
        for column in COLUMNS:
            op.create_index(
                f"ix_hosting_miners_{column}_trgm",
                "hosting_miners",
                [column],
                sqlite_where=sa.text("0"),
            )
        _sqlite_fts_up()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        _sqlite_fts_down()
    for column in COLUMNS:
        op.drop_index(f"ix_hosting_miners_{column}_trgm", table_name="hosting_miners")
    # The pg_trgm extension stays: other schemas or databases objects may use it.
    with op.batch_alter_table("hosting_sites") as batch:
        batch.drop_constraint(op.f("ck_hosting_sites_credential_mode"), type_="check")
        batch.drop_column("credential_mode")
    with op.batch_alter_table("hosting_miners") as batch:
        batch.drop_column("ip")
