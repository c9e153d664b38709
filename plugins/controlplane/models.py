"""Remote commands, the miners each one targets, the approvals given, and per-site policy.

``Command.status`` and ``CommandTarget.status`` change only in
:func:`plugins.controlplane.services.move` / ``move_target`` (a conditional UPDATE checked by
the state machine in :mod:`plugins.controlplane.states`).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hashinsight_core.db import Base, TimestampMixin, utcnow
from hashinsight_core.models import User
from hashinsight_core.scoping import Scoped
from plugins.controlplane.states import CommandStatus, TargetStatus
from plugins.hosting.models import Site


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


RISKS = ("low", "medium", "high")


class Command(Scoped, TimestampMixin, Base):
    """A remote command for some miners of one site, and the record of what became of it."""

    __tablename__ = "controlplane_commands"
    # A customer sees the commands for its own miners (customer_id is set when one customer
    # owns every target miner); a site-limited operator those of its sites.
    __scope__ = {"customer": "customer_id", "site": "site_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id"), index=True)
    command_type: Mapped[str] = mapped_column(sa.String(32))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default=CommandStatus.PENDING)
    # Kept when the account is deleted: the command stays on record, without a name.
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_users.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    expires_at: Mapped[dt.datetime]
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_customers.id", ondelete="SET NULL"), index=True
    )
    # How the targets were chosen ({"miner_ids": [...]}, {"zone_id": 3}, ...), as asked.
    selector: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    risk: Mapped[str] = mapped_column(sa.String(10), default="low")
    # The approvals still needed from people other than the requester: e.g. ["approver"],
    # ["customer", "hosting"], ["hosting"] (a hosting admin asked: the customer must agree).
    required: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The side the requester speaks for ("customer", "hosting" or ""): their request is that
    # side's consent to a high-risk command, never an approval.
    requester_role: Mapped[str] = mapped_column(sa.String(20), default="")
    # SHA-256 of the canonical (type, params, sorted target miner ids): what was approved.
    digest: Mapped[str] = mapped_column(sa.String(64), default="")
    status_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    approved_at: Mapped[dt.datetime | None]
    dispatched_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    retry_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("controlplane_commands.id", ondelete="SET NULL")
    )

    site: Mapped[Site] = relationship(lazy="selectin")
    requested_by: Mapped[User | None] = relationship(lazy="selectin")
    targets: Mapped[list[CommandTarget]] = relationship(
        back_populates="command", order_by="CommandTarget.id", lazy="raise"
    )
    approvals: Mapped[list[Approval]] = relationship(
        back_populates="command", order_by="Approval.id", lazy="raise"
    )

    # The expiry job asks "which open commands are past their time?" every minute.
    __table_args__ = (
        sa.Index("ix_controlplane_commands_status_expires_at", "status", "expires_at"),
        sa.CheckConstraint("risk IN ('low', 'medium', 'high')", name="risk"),
    )

    def as_dict(self, counts: dict | None = None) -> dict:
        body = {
            "id": self.id,
            "site_id": self.site_id,
            "command_type": self.command_type,
            "params": self.params or {},
            "status": self.status,
            "status_reason": self.status_reason,
            "risk": self.risk,
            "required_approvals": list(self.required or []),
            "requester_role": self.requester_role,
            "target": self.selector or {},
            "customer_id": self.customer_id,
            "digest": self.digest,
            "requested_by_id": self.requested_by_id,
            "reason": self.reason,
            "expires_at": _iso(self.expires_at),
            "approved_at": _iso(self.approved_at),
            "dispatched_at": _iso(self.dispatched_at),
            "finished_at": _iso(self.finished_at),
            "retry_of_id": self.retry_of_id,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
        if counts is not None:
            body["miners"] = counts
        return body


class CommandTarget(Scoped, Base):
    """One miner of a command, with its own sub-state and the device's report."""

    __tablename__ = "controlplane_command_targets"
    __scope__ = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}
    __table_args__ = (
        sa.UniqueConstraint("command_id", "miner_id"),
        # The device poll: "approved work for my zone".
        sa.Index("ix_controlplane_command_targets_zone_status", "zone_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    command_id: Mapped[int] = mapped_column(
        sa.ForeignKey("controlplane_commands.id", ondelete="CASCADE"), index=True
    )
    miner_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_miners.id", ondelete="CASCADE"))
    # Where the miner was when the command was asked (the device of this zone runs it).
    site_id: Mapped[int]
    zone_id: Mapped[int]
    customer_id: Mapped[int | None]
    miner_key: Mapped[str] = mapped_column(sa.String(128), default="")
    serial: Mapped[str] = mapped_column(sa.String(64), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=TargetStatus.PENDING)
    # Set when the command is approved: the wire command's signature (empty: no key).
    signature: Mapped[str] = mapped_column(sa.String(200), default="")
    issued_at: Mapped[dt.datetime | None]
    dispatched_at: Mapped[dt.datetime | None]
    deliveries: Mapped[int] = mapped_column(default=0)
    device_id: Mapped[int | None]
    acked_at: Mapped[dt.datetime | None]
    result_code: Mapped[str] = mapped_column(sa.String(64), default="")
    result_message: Mapped[str] = mapped_column(sa.String(500), default="")
    error_class: Mapped[str] = mapped_column(sa.String(32), default="")
    duration_ms: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    # From telemetry after the ack: "waiting", "confirmed", "unconfirmed" ("" = not checked).
    outcome: Mapped[str] = mapped_column(sa.String(16), default="")
    outcome_note: Mapped[str] = mapped_column(sa.String(200), default="")

    command: Mapped[Command] = relationship(back_populates="targets", lazy="raise")

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "command_id": self.command_id,
            "miner_id": self.miner_id,
            "serial": self.serial,
            "zone_id": self.zone_id,
            "status": self.status,
            "signed": bool(self.signature),
            "dispatched_at": _iso(self.dispatched_at),
            "deliveries": self.deliveries,
            "device_id": self.device_id,
            "acked_at": _iso(self.acked_at),
            "result_code": self.result_code,
            "result_message": self.result_message,
            "error_class": self.error_class,
            "duration_ms": self.duration_ms,
            "before": self.before,
            "after": self.after,
            "outcome": self.outcome,
            "outcome_note": self.outcome_note,
        }


class Approval(Scoped, Base):
    """One person's yes or no to a command, bound to the command's digest at that moment."""

    __tablename__ = "controlplane_approvals"
    __scope__ = {"customer": "customer_id", "site": "site_id"}
    __table_args__ = (
        # One decision per person per command: a second one is a conflict, not a new vote.
        sa.UniqueConstraint("command_id", "user_id"),
        sa.CheckConstraint("decision IN ('approve', 'reject')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    command_id: Mapped[int] = mapped_column(
        sa.ForeignKey("controlplane_commands.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int]
    customer_id: Mapped[int | None]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_users.id", ondelete="SET NULL"))
    # The slot this approval fills: "customer" or "hosting" (high risk), or the approver's
    # role for a medium-risk command.
    role: Mapped[str] = mapped_column(sa.String(20))
    decision: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    digest: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    command: Mapped[Command] = relationship(back_populates="approvals", lazy="raise")
    user: Mapped[User | None] = relationship(lazy="selectin")

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "command_id": self.command_id,
            "user_id": self.user_id,
            "user": (self.user.name or self.user.email) if self.user is not None else None,
            "role": self.role,
            "decision": self.decision,
            "reason": self.reason,
            "digest": self.digest,
            "at": _iso(self.at),
        }


class SitePolicy(Scoped, TimestampMixin, Base):
    """A site's rules for commands: risk per command type, who approves medium ones, and
    whether third-party collectors that cannot check signatures get commands at all."""

    __tablename__ = "controlplane_site_policies"
    __scope__ = {"site": "site_id"}

    site_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"), primary_key=True
    )
    # command type -> "low" | "medium" | "high"; a type not listed keeps the default.
    risks: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Roles whose approval counts for a medium-risk command.
    approver_roles: Mapped[list] = mapped_column(sa.JSON, default=list)
    allow_unsigned: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    @property
    def id(self) -> int:  # the ABAC matrix and object routes name objects by id
        return self.site_id
