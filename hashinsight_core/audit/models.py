"""The audit tables: the events, the one-row chain head, and the signed checkpoints.

Only :mod:`hashinsight_core.audit.service` writes them; plugins call ``request.audit(...)``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.audit.chain import GENESIS_HASH
from hashinsight_core.db import Base

# SQLite makes an INTEGER PRIMARY KEY the row id (the fastest ordered scan there is);
# PostgreSQL gets a BIGINT so the chain never runs out of numbers.
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class AuditEvent(Base):
    """One link of the hash chain. ``hash`` covers every other column (docs/audit.md)."""

    __tablename__ = "core_audit_events"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(sa.DateTime())
    actor_type: Mapped[str] = mapped_column(sa.String(10))
    actor_id: Mapped[str] = mapped_column(sa.String(100), default="")
    tag: Mapped[str] = mapped_column(sa.String(100))
    subject_type: Mapped[str] = mapped_column(sa.String(50), default="")
    subject_id: Mapped[str] = mapped_column(sa.String(100), default="")
    payload: Mapped[str] = mapped_column(sa.Text(), default="{}")  # canonical JSON text
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (
        # A second writer that read the same head would reuse its hash: this refuses the fork
        # even if the head lock were ever bypassed.
        sa.UniqueConstraint("prev_hash", name="uq_core_audit_events_prev_hash"),
        sa.CheckConstraint("actor_type IN ('user', 'device', 'system')", name="actor_type"),
        sa.Index("ix_core_audit_events_occurred_at", "occurred_at"),
        sa.Index("ix_core_audit_events_tag", "tag"),
        sa.Index("ix_core_audit_events_actor", "actor_type", "actor_id"),
        sa.Index("ix_core_audit_events_subject", "subject_type", "subject_id"),
    )


class AuditHead(Base):
    """The chain head: one row (id 1) that every append locks first, so appends queue up."""

    __tablename__ = "core_audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(SEQ, default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS_HASH)

    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)


class AuditCheckpoint(Base):
    """A signed checkpoint. ``note`` is the authority; the other columns are for listing."""

    __tablename__ = "core_audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(SEQ, unique=True)
    head_hash: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime())
    origin: Mapped[str] = mapped_column(sa.String(200))
    key_id: Mapped[str] = mapped_column(sa.String(8))  # hex of the 4-byte signed-note key ID
    note: Mapped[str] = mapped_column(sa.Text())
