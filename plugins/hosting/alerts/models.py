"""Alert tables: rules, alerts (open → acknowledged → resolved), the evaluator's per-subject
state, and webhook deliveries. See docs/alerts.md.

Every table holds a site's or a customer's data and is :class:`Scoped`: a customer user sees
only alerts about its own miners (edge-device alerts have no customer, so customers never see
them), an operator limited to some sites or zones only those places.

Alerts keep their site/zone/customer as plain integers (no foreign keys), like telemetry: the
history of what happened must outlive a moved or retired miner.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, TimestampMixin, utcnow
from hashinsight_core.scoping import Scope, Scoped
from plugins.hosting.alerts.rules import (
    ALERT_STATUSES,
    DELIVERY_STATUSES,
    KINDS,
    RESOLUTIONS,
    SEVERITIES,
    SUBJECT_TYPES,
)

PLACE_SCOPE = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}


def _check(column: str, values) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


class AlertRule(Scoped, TimestampMixin, Base):
    """A condition over live or 5-minute telemetry (or edge devices), limited to a site, zone,
    customer and/or model, with hysteresis and where to send notifications."""

    __tablename__ = "hosting_alert_rules"
    __table_args__ = (
        _check("kind", KINDS),
        _check("severity", SEVERITIES),
        sa.CheckConstraint(
            "for_minutes >= 0 AND clear_minutes >= 0 AND window_minutes >= 5", name="minutes"
        ),
    )
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16), default="warning")
    enabled: Mapped[bool] = mapped_column(default=True)
    # Where the rule looks; None = everywhere.
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"), index=True
    )
    zone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_zones.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_customers.id", ondelete="CASCADE"), index=True
    )
    model_name: Mapped[str | None] = mapped_column(sa.String(100))
    # What "bad" means; see rules.KIND_SPECS for the unit of each kind.
    threshold: Mapped[float | None] = mapped_column(sa.Float)
    clear_threshold: Mapped[float | None] = mapped_column(sa.Float)
    # Hysteresis: fire after the condition held for_minutes; clear after it was false
    # (past clear_threshold) for clear_minutes.
    for_minutes: Mapped[int] = mapped_column(default=0)
    clear_minutes: Mapped[int] = mapped_column(default=0)
    # 5-minute rules (reject rate, pool down): the buckets of the last window_minutes.
    window_minutes: Mapped[int] = mapped_column(default=15)
    # Notifications besides the in-app panel.
    email_to: Mapped[str] = mapped_column(sa.String(1000), default="")
    email_roles: Mapped[str] = mapped_column(sa.String(200), default="")
    webhook_url: Mapped[str] = mapped_column(sa.String(500), default="")
    # Signs webhook bodies (HMAC-SHA256); shown once when made, never listed.
    webhook_secret: Mapped[str] = mapped_column(sa.String(128), default="")
    created_by: Mapped[int | None]
    # Open a ticket per incident (one rule and subject) too; see plugins/hosting/tickets.
    open_ticket: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    @classmethod
    def scope_clause(cls, scope: Scope):
        clause = super().scope_clause(scope)
        if scope.limited_by_site and scope.customer_id is None and not scope.no_customer:
            # A rule for the whole farm also covers the sites an operator may see.
            return sa.or_(clause, sa.and_(cls.site_id.is_(None), cls.zone_id.is_(None)))
        return clause

    @property
    def email_list(self) -> list[str]:
        return [e for e in (s.strip() for s in self.email_to.split(",")) if e]

    @property
    def role_list(self) -> list[str]:
        return [r for r in (s.strip() for s in self.email_roles.split(",")) if r]

    def as_dict(self, with_targets: bool = True) -> dict:
        data = {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "severity": self.severity,
            "enabled": self.enabled,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "customer_id": self.customer_id,
            "model_name": self.model_name,
            "threshold": self.threshold,
            "clear_threshold": self.clear_threshold,
            "for_minutes": self.for_minutes,
            "clear_minutes": self.clear_minutes,
            "window_minutes": self.window_minutes,
            "open_ticket": self.open_ticket,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
        if with_targets:
            data.update(
                email_to=self.email_list,
                email_roles=self.role_list,
                webhook_url=self.webhook_url,
                webhook_secret_set=bool(self.webhook_secret),
            )
        return data


class Alert(Scoped, Base):
    """One rule firing for one subject (a miner or an edge device), from open to resolved.

    ``open_key`` is ``"<rule>:<subject type>:<subject id>"`` while the alert is not resolved
    and NULL after: its unique index is the database's guarantee of one open alert per rule
    and subject, whatever the evaluator does.
    """

    __tablename__ = "hosting_alerts"
    __table_args__ = (
        _check("status", ALERT_STATUSES),
        _check("subject_type", SUBJECT_TYPES),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ("
            + ", ".join(f"'{r}'" for r in RESOLUTIONS)
            + ")",
            name="resolution",
        ),
        sa.Index("ix_hosting_alerts_status_opened_at", "status", "opened_at"),
        sa.Index("ix_hosting_alerts_site_status", "site_id", "status"),
        sa.Index("ix_hosting_alerts_customer_status", "customer_id", "status"),
        sa.Index("ix_hosting_alerts_rule_id", "rule_id"),
        sa.Index("ix_hosting_alerts_subject", "subject_type", "subject_id"),
        sa.Index("ix_hosting_alerts_opened_at", "opened_at"),
    )
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_alert_rules.id", ondelete="SET NULL")
    )
    rule_name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16))
    subject_type: Mapped[str] = mapped_column(sa.String(16))
    subject_id: Mapped[int]
    subject_label: Mapped[str] = mapped_column(sa.String(200), default="")
    site_id: Mapped[int]
    zone_id: Mapped[int]
    customer_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    value: Mapped[float | None] = mapped_column(sa.Float)
    threshold: Mapped[float | None] = mapped_column(sa.Float)
    since: Mapped[dt.datetime]  # the condition held since then
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[int | None]
    ack_note: Mapped[str] = mapped_column(sa.String(500), default="")
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[int | None]  # None when the evaluator cleared it
    resolve_note: Mapped[str] = mapped_column(sa.String(500), default="")
    resolution: Mapped[str | None] = mapped_column(sa.String(16))
    open_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "kind": self.kind,
            "severity": self.severity,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "subject_label": self.subject_label,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "customer_id": self.customer_id,
            "status": self.status,
            "value": self.value,
            "threshold": self.threshold,
            "since": _iso(self.since),
            "opened_at": _iso(self.opened_at),
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "ack_note": self.ack_note,
            "resolved_at": _iso(self.resolved_at),
            "resolved_by": self.resolved_by,
            "resolve_note": self.resolve_note,
            "resolution": self.resolution,
        }


class AlertState(Scoped, Base):
    """The evaluator's memory, one row per rule and subject whose condition holds (pending) or
    whose alert is open. Written only by set-based statements of the evaluator."""

    __tablename__ = "hosting_alert_states"
    __table_args__ = (sa.Index("ix_hosting_alert_states_alert_id", "alert_id"),)
    __scope__ = PLACE_SCOPE

    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    subject_type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    site_id: Mapped[int]
    zone_id: Mapped[int]
    customer_id: Mapped[int | None]
    value: Mapped[float | None] = mapped_column(sa.Float)
    true_since: Mapped[dt.datetime]
    false_since: Mapped[dt.datetime | None]  # set while an open alert's condition is false
    alert_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_alerts.id", ondelete="SET NULL")
    )


class AlertDelivery(Scoped, Base):
    """One webhook POST (a batch of alerts of one rule and one event), sent by a huey task
    after the transaction that made it commits, retried on failure."""

    __tablename__ = "hosting_alert_deliveries"
    __table_args__ = (
        _check("status", DELIVERY_STATUSES),
        sa.Index("ix_hosting_alert_deliveries_rule_created", "rule_id", "created_at"),
        sa.Index("ix_hosting_alert_deliveries_status", "status"),
    )
    __scope__ = PLACE_SCOPE

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_alert_rules.id", ondelete="SET NULL")
    )
    # the rule's place when the delivery was made
    site_id: Mapped[int | None]
    zone_id: Mapped[int | None]
    customer_id: Mapped[int | None]
    event: Mapped[str] = mapped_column(sa.String(32))
    url: Mapped[str] = mapped_column(sa.String(500))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "event": self.event,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "alerts": len((self.payload or {}).get("alerts", [])),
            "created_at": _iso(self.created_at),
            "sent_at": _iso(self.sent_at),
        }
