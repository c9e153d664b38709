"""Alert rules and alerts as the pages and the API change them: create, edit, disable and
delete rules; acknowledge and resolve alerts; list them with filters.

Everything goes through the request's session, so the account's ABAC scope applies: a site,
zone or customer the account cannot see is "no such …" here too.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, InvalidInput
from hashinsight_core.models import Customer
from hashinsight_core.security import BUILTIN_ROLES
from plugins.hosting.alerts import notify
from plugins.hosting.alerts.models import Alert, AlertRule, AlertState
from plugins.hosting.alerts.rules import (
    ALERT_STATUSES,
    KINDS,
    NOTE_MAX,
    SEVERITIES,
    SUBJECT_TYPES,
    RuleInvalid,
    clean_rule,
)
from plugins.hosting.models import Site, Zone

_ = TranslationStringFactory("hashinsight")

ACTIVE = ("open", "acknowledged")
MAX_LIMIT = 200


def known_roles(dbsession) -> set[str]:
    from hashinsight_core.models import Role

    return set(BUILTIN_ROLES) | set(dbsession.scalars(sa.select(Role.name)))


def _check_places(dbsession, values: dict, rule: dict) -> None:
    """The site, zone and customer must exist and be visible to the account; a zone sets its
    site."""
    problems = []
    zone_id, site_id, customer_id = (
        rule.get("zone_id"),
        rule.get("site_id"),
        rule.get("customer_id"),
    )
    if zone_id is not None:
        zone = dbsession.get(Zone, zone_id)
        if zone is None:
            problems.append(("zone_id", _("no such zone")))
        elif site_id is not None and site_id != zone.site_id:
            problems.append(("zone_id", _("the zone is not in the chosen site")))
        else:
            values["site_id"] = rule["site_id"] = zone.site_id
    if site_id is not None and dbsession.get(Site, site_id) is None:
        problems.append(("site_id", _("no such site")))
    if customer_id is not None and dbsession.get(Customer, customer_id) is None:
        problems.append(("customer_id", _("no such customer")))
    if problems:
        raise RuleInvalid(problems)


def _rule_values(rule: AlertRule) -> dict:
    return {c.key: getattr(rule, c.key) for c in AlertRule.__table__.columns}


def _apply_secret(rule: AlertRule, values: dict) -> str | None:
    """Set the webhook secret from ``values``; returns a new secret to show once, if made."""
    rotate = values.pop("rotate_webhook_secret", False)
    given = values.pop("webhook_secret", None)
    if given:
        rule.webhook_secret = given
        return None
    if rotate or (rule.webhook_url and not rule.webhook_secret):
        rule.webhook_secret = "whsec_" + secrets.token_urlsafe(32)
        return rule.webhook_secret
    return None


def create_rule(request, data) -> tuple[AlertRule, str | None]:
    """A new rule from ``data`` (422 naming each problem; nothing stored)."""
    db = request.dbsession
    values = clean_rule(data, known_roles=known_roles(db))
    _check_places(db, values, values)
    rule = AlertRule(
        created_by=request.user.id if request.user else None,
        **{k: v for k, v in values.items() if k not in ("webhook_secret", "rotate_webhook_secret")},
    )
    secret = _apply_secret(rule, values)
    db.add(rule)
    db.flush()
    request.audit(
        "hosting:alert_rule:create",
        subject=("alert_rule", rule.id),
        payload={"name": rule.name, "kind": rule.kind, "webhook": bool(rule.webhook_url)},
    )
    return rule, secret


# Changing any of these changes what the rule means: pending streaks start over.
_CONDITION_FIELDS = {
    "kind",
    "site_id",
    "zone_id",
    "customer_id",
    "model_name",
    "threshold",
    "clear_threshold",
    "window_minutes",
}


def update_rule(request, rule: AlertRule, data) -> str | None:
    """Apply the changes in ``data`` to ``rule``; returns a new webhook secret to show once."""
    db = request.dbsession
    current = _rule_values(rule)
    values = clean_rule(data, current=current, known_roles=known_roles(db))
    merged = {**current, **values}
    _check_places(db, values, merged)
    changed = sorted(
        k for k, v in values.items() if k not in ("webhook_secret",) and current.get(k) != v
    )
    if "webhook_secret" in values or values.get("rotate_webhook_secret"):
        changed.append("webhook_secret")
    for key, value in values.items():
        if key not in ("webhook_secret", "rotate_webhook_secret"):
            setattr(rule, key, value)
    secret = _apply_secret(rule, values)
    if "enabled" in changed and not rule.enabled:
        close_rule_alerts(request, rule, "rule_disabled")
    elif _CONDITION_FIELDS & set(changed):
        if "kind" in changed:
            close_rule_alerts(request, rule, "rule_changed")
        else:
            db.execute(
                sa.delete(AlertState).where(
                    AlertState.rule_id == rule.id, AlertState.alert_id.is_(None)
                )
            )
    db.flush()
    if changed:
        request.audit(
            "hosting:alert_rule:update",
            subject=("alert_rule", rule.id),
            payload={"changed": sorted(set(changed) - {"rotate_webhook_secret"})},
        )
    return secret


def delete_rule(request, rule: AlertRule) -> None:
    db = request.dbsession
    # No webhook for these: the rule and its secret go now, so it could not be signed.
    close_rule_alerts(request, rule, "rule_deleted", send=False)
    rule_id, name = rule.id, rule.name
    db.delete(rule)
    db.flush()
    request.audit(
        "hosting:alert_rule:delete", subject=("alert_rule", rule_id), payload={"name": name}
    )


def close_rule_alerts(request, rule: AlertRule, resolution: str, send: bool = True) -> int:
    """Resolve the rule's open alerts (the rule no longer watches) and forget its states."""
    db = request.dbsession
    now = utcnow()
    ids = list(
        db.execute(
            sa.update(Alert.__table__)
            .where(Alert.__table__.c.rule_id == rule.id, Alert.__table__.c.status.in_(ACTIVE))
            .values(status="resolved", resolved_at=now, resolution=resolution, open_key=None)
            .returning(Alert.__table__.c.id)
        ).scalars()
    )
    db.execute(sa.delete(AlertState).where(AlertState.rule_id == rule.id))
    if ids and send and rule.webhook_url:
        notify.queue_webhooks(request, rule, "alert.resolved", ids)
    return len(ids)


# --- acknowledge and resolve ------------------------------------------------------------------


def _note(data) -> str:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(_("the body must be a JSON object"), "body")
    unknown = sorted(set(data) - {"note"})
    if unknown:
        raise InvalidInput(
            _("${field}: is not a field here", mapping={"field": unknown[0]}), unknown[0]
        )
    note = data.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise InvalidInput(_("note: must be text"), "note")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            _("note: at most ${limit} characters", mapping={"limit": NOTE_MAX}), "note"
        )
    return note


def acknowledge(request, alert: Alert, data) -> None:
    note = _note(data)
    if alert.status == "resolved":
        raise Conflict(_("the alert is resolved already"), "status")
    if alert.status == "acknowledged":
        raise Conflict(_("the alert is acknowledged already"), "status")
    alert.status = "acknowledged"
    alert.acknowledged_at = utcnow()
    alert.acknowledged_by = request.user.id
    alert.ack_note = note
    request.dbsession.flush()
    _event(request, alert, "alert.acknowledged")
    request.audit(
        "hosting:alert:acknowledge",
        subject=("alert", alert.id),
        payload={"rule_id": alert.rule_id, "note": note},
    )


def resolve(request, alert: Alert, data) -> None:
    """Close the alert by hand. If the condition still holds, the evaluator starts over and
    opens a new alert after the rule's for_minutes."""
    note = _note(data)
    if alert.status == "resolved":
        raise Conflict(_("the alert is resolved already"), "status")
    alert.status = "resolved"
    alert.resolved_at = utcnow()
    alert.resolved_by = request.user.id
    alert.resolve_note = note
    alert.resolution = "manual"
    alert.open_key = None
    request.dbsession.flush()
    request.dbsession.execute(sa.delete(AlertState).where(AlertState.alert_id == alert.id))
    _event(request, alert, "alert.resolved")
    request.audit(
        "hosting:alert:resolve",
        subject=("alert", alert.id),
        payload={"rule_id": alert.rule_id, "note": note},
    )


def _event(request, alert: Alert, event: str) -> None:
    if alert.rule_id is None:
        return
    # The rule may be outside the account's scope (a farm-wide rule): its webhook still fires.
    rule = request.dbsession.execute(
        sa.select(AlertRule).where(AlertRule.id == alert.rule_id),
        execution_options={"unscoped": True},
    ).scalar_one_or_none()
    if rule is not None and rule.webhook_url:
        notify.queue_webhooks(request, rule, event, [alert.id])


# --- reading ---------------------------------------------------------------------------------

FILTER_INTS = ("site_id", "zone_id", "customer_id", "rule_id", "subject_id")


def parse_filters(params, *, strict: bool) -> dict:
    """Alert filters from query parameters. ``strict`` (the API) answers 422 for a bad value;
    pages ignore it instead."""
    filters: dict = {}

    def bad(name, message):
        if strict:
            raise InvalidInput(message % {"name": name}, name)

    status = (params.get("status") or "").strip()
    if status:
        if status in ALERT_STATUSES or status in ("active", "all"):
            filters["status"] = status
        else:
            bad("status", _("${name}: must be open, acknowledged, resolved, active or all"))
    for name, allowed in (
        ("kind", KINDS),
        ("severity", SEVERITIES),
        ("subject_type", SUBJECT_TYPES),
    ):
        value = (params.get(name) or "").strip()
        if value:
            if value in allowed:
                filters[name] = value
            else:
                bad(
                    name,
                    _(
                        "${name}: must be one of ${choices}",
                        mapping={"choices": ", ".join(allowed)},
                    ),
                )
    for name in FILTER_INTS:
        value = (params.get(name) or "").strip()
        if value:
            if value.isdigit() and 0 < int(value) < 2**31:
                filters[name] = int(value)
            else:
                bad(name, _("${name}: must be a positive whole number"))
    for name in ("since", "until"):
        value = (params.get(name) or "").strip()
        if value:
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                bad(name, _("${name}: must be a date or date-time (ISO 8601)"))
                continue
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
            filters[name] = parsed
    q = (params.get("q") or "").strip()
    if q:
        filters["q"] = q[:100]
    return filters


def parse_page(params) -> tuple[int, int]:
    """(limit, offset) from ``?limit=&offset=``; 422 when they are not sensible."""
    try:
        limit = int(params.get("limit", 50))
        offset = int(params.get("offset", 0))
    except (TypeError, ValueError):
        raise InvalidInput(_("limit and offset must be whole numbers"), "limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(_("limit: must be 1 to ${high}", mapping={"high": MAX_LIMIT}), "limit")
    if not 0 <= offset < 2**31:
        raise InvalidInput(_("offset: must be 0 or more"), "offset")
    return limit, offset


def alert_query(filters: dict) -> sa.Select:
    query = sa.select(Alert)
    status = filters.get("status", "active")
    if status == "active":
        query = query.where(Alert.status.in_(ACTIVE))
    elif status != "all":
        query = query.where(Alert.status == status)
    for name in ("kind", "severity", "subject_type", *FILTER_INTS):
        if name in filters:
            query = query.where(getattr(Alert, name) == filters[name])
    if "since" in filters:
        query = query.where(Alert.opened_at >= filters["since"])
    if "until" in filters:
        query = query.where(Alert.opened_at < filters["until"])
    if "q" in filters:
        escaped = filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Alert.subject_label.ilike(f"%{escaped}%", escape="\\"))
    return query.order_by(Alert.opened_at.desc(), Alert.id.desc())


def page_of_alerts(dbsession, filters: dict, limit: int, offset: int) -> tuple[list[Alert], int]:
    query = alert_query(filters)
    total = dbsession.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = [] if offset >= total else list(dbsession.scalars(query.limit(limit).offset(offset)))
    return rows, total


def counts(dbsession) -> dict:
    """Alerts not resolved, by status and severity (what the account may see)."""
    rows = dbsession.execute(
        sa.select(Alert.status, Alert.severity, sa.func.count())
        .where(Alert.status.in_(ACTIVE))
        .group_by(Alert.status, Alert.severity)
    ).all()
    result = {
        "open": 0,
        "acknowledged": 0,
        "by_severity": dict.fromkeys(SEVERITIES, 0),
    }
    for status, severity, count in rows:
        result[status] += count
        result["by_severity"][severity] = result["by_severity"].get(severity, 0) + count
    result["active"] = result["open"] + result["acknowledged"]
    return result


def open_count(dbsession) -> int:
    return dbsession.scalar(
        sa.select(sa.func.count()).select_from(Alert).where(Alert.status == "open")
    )


def nav_count(request) -> int:
    """Open alerts the account may see, for the menu; 0 outside a transaction (scripts and
    tests that build a request without one)."""
    from transaction.interfaces import NoTransaction

    try:
        request.tm.get()
    except (NoTransaction, AttributeError):
        return 0
    return open_count(request.dbsession)
