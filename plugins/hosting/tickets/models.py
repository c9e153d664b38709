"""Ticket tables: tickets, their miners, comments, image attachments, history, and the repair
log of each miner. See docs/tickets.md.

Every table holds a customer's or a site's data and is :class:`Scoped`. Child rows (comments,
attachments, events, repairs) carry copies of their ticket's (or miner's) customer, site and
zone, so the one scoping layer limits them without a join. Internal comments, attachments and
events are hidden from customer accounts *in the data layer* (``scope_clause`` below), not
only by the pages: a customer's query cannot reach them by any route.

Places are plain integers (no foreign keys), like alerts: the history must outlive a moved or
retired miner.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, utcnow
from hashinsight_core.scoping import Scope, Scoped

CATEGORIES = (
    "hashboard",
    "fan",
    "psu",
    "control_board",
    "network",
    "pool",
    "overheating",
    "billing",
    "other",
)
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "waiting_customer", "waiting_parts", "resolved", "closed")
ACTIVE_STATUSES = ("open", "in_progress", "waiting_customer", "waiting_parts")
DONE_STATUSES = ("resolved", "closed")
SOURCES = ("customer", "operator", "alert")
REPAIR_KINDS = ("part_swap", "rma_sent", "rma_returned", "repair", "note")
EVENT_KINDS = ("open", "status", "assign", "priority", "alert", "repair", "detach")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")

PLACE_SCOPE = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}


def ticket_number(ticket_id: int | None) -> str:
    """The number people quote: ``T-000042``."""
    return f"T-{int(ticket_id or 0):06d}"


def _check(column: str, values) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


class _HiddenFromCustomers(Scoped):
    """Rows with an ``internal`` flag: customer accounts never see the internal ones."""

    @classmethod
    def scope_clause(cls, scope: Scope):
        clause = super().scope_clause(scope)
        if scope.customer_id is not None or scope.no_customer:
            return sa.and_(clause, cls.internal.is_(False))
        return clause


class Ticket(Scoped, Base):
    """A problem report about miners (or a bill): who, what, how urgent, where it stands, and
    its SLA clock (see ``sla.py``)."""

    __tablename__ = "hosting_tickets"
    __table_args__ = (
        _check("category", CATEGORIES),
        _check("priority", PRIORITIES),
        _check("status", STATUSES),
        _check("source", SOURCES),
        sa.Index("ix_hosting_tickets_status_priority", "status", "priority"),
        sa.Index("ix_hosting_tickets_customer_status", "customer_id", "status"),
        sa.Index("ix_hosting_tickets_site_status", "site_id", "status"),
        sa.Index("ix_hosting_tickets_assignee_status", "assignee_id", "status"),
        sa.Index("ix_hosting_tickets_rule_incident", "alert_rule_id", "incident_key"),
    )
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(16), default="other")
    priority: Mapped[str] = mapped_column(sa.String(8), default="normal")
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    source: Mapped[str] = mapped_column(sa.String(16), default="operator")
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_customers.id", ondelete="RESTRICT")
    )
    site_id: Mapped[int | None]
    zone_id: Mapped[int | None]
    opened_by_id: Mapped[int | None]
    assignee_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    response_due_at: Mapped[dt.datetime]
    resolution_due_at: Mapped[dt.datetime]
    # The SLA clock stops while the ticket waits on the customer (and while it is resolved or
    # closed); paused_seconds is the stopped time so far, paused_since the current stop.
    paused_seconds: Mapped[int] = mapped_column(default=0)
    paused_since: Mapped[dt.datetime | None]
    response_breached: Mapped[bool] = mapped_column(default=False)
    resolution_breached: Mapped[bool] = mapped_column(default=False)
    # Opened by an alert rule: the rule and "<rule>:<subject type>:<subject id>".
    alert_rule_id: Mapped[int | None]
    incident_key: Mapped[str | None] = mapped_column(sa.String(64))
    # incident_key while the ticket is not resolved/closed, NULL after: the database's
    # guarantee of one ticket per incident, whatever two evaluators do at once.
    open_incident_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    @property
    def number(self) -> str:
        return ticket_number(self.id)

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    def as_dict(self, staff: bool = True) -> dict:
        data = {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "category": self.category,
            "priority": self.priority,
            "status": self.status,
            "source": self.source,
            "customer_id": self.customer_id,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "opened_by_id": self.opened_by_id,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "first_response_at": _iso(self.first_response_at),
            "resolved_at": _iso(self.resolved_at),
            "closed_at": _iso(self.closed_at),
            "response_due_at": _iso(self.response_due_at),
            "resolution_due_at": _iso(self.resolution_due_at),
            "paused_seconds": self.paused_seconds,
            "paused": self.paused_since is not None,
            "response_breached": self.response_breached,
            "resolution_breached": self.resolution_breached,
        }
        if staff:
            data.update(
                assignee_id=self.assignee_id,
                alert_rule_id=self.alert_rule_id,
                incident_key=self.incident_key,
            )
        return data


class TicketMiner(Base):
    """Which miners a ticket is about (their scope is the ticket's and the miner's own)."""

    __tablename__ = "hosting_ticket_miners"
    __table_args__ = (sa.Index("ix_hosting_ticket_miners_miner_id", "miner_id"),)

    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    miner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_miners.id", ondelete="CASCADE"), primary_key=True
    )


class TicketComment(_HiddenFromCustomers, Base):
    """A message on a ticket; ``internal`` ones are for staff only."""

    __tablename__ = "hosting_ticket_comments"
    __table_args__ = (sa.Index("ix_hosting_ticket_comments_ticket_id", "ticket_id"),)
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_tickets.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None]
    site_id: Mapped[int | None]
    zone_id: Mapped[int | None]
    author_id: Mapped[int | None]  # None: the system (an alert)
    body: Mapped[str] = mapped_column(sa.Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "author_id": self.author_id,
            "body": self.body,
            "internal": self.internal,
            "created_at": _iso(self.created_at),
        }


class TicketAttachment(_HiddenFromCustomers, Base):
    """An image on a ticket (PNG, JPEG, WebP or GIF, checked by its first bytes), kept in the
    database so it goes with the ticket's transaction and backups."""

    __tablename__ = "hosting_ticket_attachments"
    __table_args__ = (
        _check("content_type", IMAGE_TYPES),
        sa.Index("ix_hosting_ticket_attachments_ticket_id", "ticket_id"),
    )
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_ticket_comments.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None]
    site_id: Mapped[int | None]
    zone_id: Mapped[int | None]
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    internal: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "comment_id": self.comment_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "internal": self.internal,
            "created_at": _iso(self.created_at),
        }


class TicketEvent(_HiddenFromCustomers, Base):
    """Append-only history of a ticket: opened, status changes, assignment, alerts, repairs."""

    __tablename__ = "hosting_ticket_events"
    __table_args__ = (sa.Index("ix_hosting_ticket_events_ticket_at", "ticket_id", "at"),)
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_tickets.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None]
    site_id: Mapped[int | None]
    zone_id: Mapped[int | None]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]  # None: the system
    kind: Mapped[str] = mapped_column(sa.String(16))
    from_value: Mapped[str] = mapped_column(sa.String(100), default="")
    to_value: Mapped[str] = mapped_column(sa.String(100), default="")
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    internal: Mapped[bool] = mapped_column(default=False)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "at": _iso(self.at),
            "actor_id": self.actor_id,
            "kind": self.kind,
            "from": self.from_value,
            "to": self.to_value,
            "note": self.note,
            "internal": self.internal,
        }


class RepairEntry(Scoped, Base):
    """One line of a miner's repair log: a part swap, an RMA sent or returned, a repair, a
    note; optionally tied to the ticket it fixed."""

    __tablename__ = "hosting_repairs"
    __table_args__ = (
        _check("kind", REPAIR_KINDS),
        sa.Index("ix_hosting_repairs_miner_at", "miner_id", "at"),
        sa.Index("ix_hosting_repairs_ticket_id", "ticket_id"),
    )
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    miner_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_miners.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_tickets.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None]
    site_id: Mapped[int]
    zone_id: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(16))
    part: Mapped[str] = mapped_column(sa.String(100), default="")
    old_serial: Mapped[str] = mapped_column(sa.String(100), default="")
    new_serial: Mapped[str] = mapped_column(sa.String(100), default="")
    rma_number: Mapped[str] = mapped_column(sa.String(100), default="")
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None]

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "miner_id": self.miner_id,
            "ticket_id": self.ticket_id,
            "ticket_number": ticket_number(self.ticket_id) if self.ticket_id else None,
            "kind": self.kind,
            "part": self.part,
            "old_serial": self.old_serial,
            "new_serial": self.new_serial,
            "rma_number": self.rma_number,
            "note": self.note,
            "at": _iso(self.at),
            "by_id": self.by_id,
        }


@event.listens_for(TicketEvent, "before_update")
def _events_are_append_only(_mapper, _connection, target):
    raise RuntimeError("ticket history is append-only")
