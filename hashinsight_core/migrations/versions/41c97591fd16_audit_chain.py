"""core: audit chain (events, the one-row chain head, signed checkpoints)

Revision ID: 41c97591fd16
Revises: a3d58e10c2f7
Create Date: 2026-11-25 01:48:24.619058

The head row starts at seq 0 with the genesis hash; every append locks and moves it.
"""

import sqlalchemy as sa
from alembic import op

revision = "41c97591fd16"
down_revision = "a3d58e10c2f7"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "core_audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", SEQ, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit_checkpoints")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_core_audit_checkpoints_tree_size")),
    )
    op.create_table(
        "core_audit_events",
        sa.Column("seq", SEQ, autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("actor_type", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("subject_type", sa.String(length=50), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('user', 'device', 'system')",
            name=op.f("ck_core_audit_events_actor_type"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_core_audit_events")),
        sa.UniqueConstraint("prev_hash", name="uq_core_audit_events_prev_hash"),
    )
    with op.batch_alter_table("core_audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_core_audit_events_actor", ["actor_type", "actor_id"])
        batch_op.create_index("ix_core_audit_events_occurred_at", ["occurred_at"])
        batch_op.create_index("ix_core_audit_events_subject", ["subject_type", "subject_id"])
        batch_op.create_index("ix_core_audit_events_tag", ["tag"])

    head = op.create_table(
        "core_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_core_audit_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])


def downgrade() -> None:
    op.drop_table("core_audit_head")
    with op.batch_alter_table("core_audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_core_audit_events_tag")
        batch_op.drop_index("ix_core_audit_events_subject")
        batch_op.drop_index("ix_core_audit_events_occurred_at")
        batch_op.drop_index("ix_core_audit_events_actor")
    op.drop_table("core_audit_events")
    op.drop_table("core_audit_checkpoints")
