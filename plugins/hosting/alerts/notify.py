"""Notifications of alerts: e-mail and signed webhooks, both after the transaction commits.

The in-app panel needs nothing here: it reads the alerts table. E-mail goes through
``request.send_mail`` (sent after commit); a webhook is a delivery row written in the
evaluator's transaction and POSTed by a huey task once that transaction committed, so a slow
or dead receiver never holds up evaluation::

    evaluator txn ──> alerts + hosting_alert_deliveries (pending) ──commit──┐
                                                                            v
    huey task hosting.alert_webhook(delivery_id)
        1 txn: read delivery + rule secret  (sent already / rule gone -> stop)
        2 POST url, body JSON, timeout 5 s
             X-HashInsight-Timestamp: 1733222400
             X-HashInsight-Signature: sha256=HMAC_SHA256(secret, "<timestamp>." + body)
        3 txn: record attempt (2xx -> sent; else pending, or failed after the last retry)
        4 failure -> raise -> huey retries after webhook_retry_delay_seconds

A mass event (a site losing power) opens thousands of alerts in one run; they go out as one
e-mail per recipient and rule and as webhook bodies of at most ``webhook_batch`` alerts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.models import INVITED, User
from hashinsight_core.scoping import scope_for_user
from hashinsight_core.tasks import run_in_request
from plugins.hosting.alerts.config import alert_config
from plugins.hosting.alerts.models import Alert, AlertDelivery, AlertRule

log = logging.getLogger(__name__)
_ = TranslationStringFactory("hashinsight")

SIGNATURE_HEADER = "X-HashInsight-Signature"
TIMESTAMP_HEADER = "X-HashInsight-Timestamp"
EVENT_HEADER = "X-HashInsight-Event"
DELIVERY_HEADER = "X-HashInsight-Delivery"
MAIL_TEMPLATE = "plugins.hosting:templates/hosting/alerts_mail.txt.jinja2"
UNSCOPED = {"unscoped": True}


# --- signing ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``<timestamp>.<body>`` with the rule's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now=None, tolerance=300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replay)."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


# --- reading alerts for messages -------------------------------------------------------------


def load_alerts(dbsession, ids: list[int]) -> list[dict]:
    """The alerts ``ids`` as dicts, oldest first (whatever the caller's scope: a rule's
    notifications cover every alert it made)."""
    found: list[dict] = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = dbsession.execute(
            sa.select(Alert).where(Alert.id.in_(chunk)), execution_options=UNSCOPED
        ).scalars()
        found.extend(a.as_dict() for a in rows)
    return sorted(found, key=lambda a: a["id"])


def _rule_summary(rule: AlertRule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "kind": rule.kind,
        "severity": rule.severity,
        "threshold": rule.threshold,
    }


# --- webhooks --------------------------------------------------------------------------------


def queue_webhooks(request, rule: AlertRule, event: str, ids: list[int]) -> list[int]:
    """Write delivery rows for ``ids`` and send them after the commit; returns their ids."""
    config = alert_config(request)
    db = request.dbsession
    alerts = load_alerts(db, ids)
    made = []
    for start in range(0, len(alerts), config.webhook_batch):
        delivery = AlertDelivery(
            rule_id=rule.id,
            site_id=rule.site_id,
            zone_id=rule.zone_id,
            customer_id=rule.customer_id,
            event=event,
            url=rule.webhook_url,
            payload={
                "event": event,
                "rule": _rule_summary(rule),
                "alerts": alerts[start : start + config.webhook_batch],
                "created_at": utcnow().isoformat() + "Z",
            },
            status="pending",
        )
        db.add(delivery)
        db.flush()
        made.append(delivery.id)
    if made:
        task = request.registry.get("hosting.alerts.webhook_task")

        def after_commit(success: bool) -> None:
            if success and task is not None:
                for delivery_id in made:
                    try:
                        task(delivery_id)
                    except Exception:  # a broken queue must not turn a commit into an error
                        log.exception("could not queue webhook delivery %s", delivery_id)

        request.tm.get().addAfterCommitHook(after_commit)
    return made


class WebhookFailed(Exception):
    """The receiver did not answer 2xx; huey retries the task."""


def _prepare(request, delivery_id: int):
    delivery = request.dbsession.get(AlertDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return None
    rule = request.dbsession.get(AlertRule, delivery.rule_id) if delivery.rule_id else None
    if rule is None or not rule.webhook_secret:
        delivery.status = "failed"
        delivery.last_error = "the rule is gone or has no secret"
        return None
    body = json.dumps(
        {**delivery.payload, "delivery_id": delivery.id}, separators=(",", ":"), sort_keys=True
    ).encode()
    return delivery.url, body, rule.webhook_secret, delivery.event


def _record(request, delivery_id: int, code: int | None, error: str, retries: int) -> None:
    delivery = request.dbsession.get(AlertDelivery, delivery_id)
    if delivery is None:
        return
    delivery.attempts += 1
    delivery.last_status_code = code
    delivery.last_error = error[:300]
    if not error:
        delivery.status = "sent"
        delivery.sent_at = utcnow()
    elif delivery.attempts > retries:
        delivery.status = "failed"


def deliver(registry, delivery_id: int) -> str:
    """POST one delivery; raises :class:`WebhookFailed` so that huey tries again."""
    import httpx

    from plugins.hosting.alerts.config import AlertConfig

    config = registry.get("hosting.alerts.config") or AlertConfig()
    prepared = run_in_request(registry, _prepare, delivery_id)
    if prepared is None:
        return "skipped"
    url, body, secret, event = prepared
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "HashInsight-Alerts/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    code, error = None, ""
    try:
        response = httpx.post(
            url,
            content=body,
            headers=headers,
            timeout=config.webhook_timeout_seconds,
            follow_redirects=False,
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    run_in_request(registry, _record, delivery_id, code, error, config.webhook_retries)
    if error:
        raise WebhookFailed(f"webhook delivery {delivery_id} to {url}: {error}")
    return "sent"


# --- e-mail ----------------------------------------------------------------------------------


def _visible(scope, alert: dict) -> bool:
    if scope.no_customer:
        return False
    if scope.customer_id is not None and alert["customer_id"] != scope.customer_id:
        return False
    return scope.allows_zone(alert["site_id"], alert["zone_id"])


def recipients(request, rule: AlertRule, alerts: list[dict]) -> dict[str, list[dict]]:
    """address -> the alerts that person may see. Listed addresses get all of them; accounts
    of the listed roles only those inside their ABAC scope (a customer its own miners, unless
    it turned alert e-mail off in the portal)."""
    from plugins.hosting.portal import wants_mail

    out: dict[str, list[dict]] = {address.lower(): alerts for address in rule.email_list}
    roles = rule.role_list
    if not roles:
        return out
    db = request.dbsession
    today = utcnow().date()
    users = db.scalars(
        sa.select(User).where(
            User.role.in_(roles),
            User.is_active.is_(True),
            User.password_hash != INVITED,
            sa.or_(User.valid_from.is_(None), User.valid_from <= today),
            sa.or_(User.valid_until.is_(None), User.valid_until >= today),
        )
    )
    for user in users:
        if user.email.lower() in out:
            continue
        # Customers choose in the portal whether alerts reach them by e-mail.
        if user.customer_id is not None and not wants_mail(request, user.id, "alerts"):
            continue
        scope = scope_for_user(db, user)
        visible = [a for a in alerts if _visible(scope, a)]
        if visible:
            out[user.email.lower()] = visible
    return out


def _link(request) -> str:
    public = request.registry.settings.get("hashinsight.public_url")
    if public:
        return public.rstrip("/") + request.route_path("hosting.alert.list")
    return request.route_url("hosting.alert.list")


def send_emails(request, rule: AlertRule, ids: list[int]) -> int:
    """One e-mail per recipient for the alerts ``rule`` opened; returns how many."""
    if not (rule.email_list or rule.role_list):
        return 0
    alerts = load_alerts(request.dbsession, ids)
    limit = alert_config(request).mail_list_max
    link = _link(request)
    sent = 0
    for address, visible in recipients(request, rule, alerts).items():
        subject = _(
            "${count} new alert(s): ${rule}", mapping={"count": len(visible), "rule": rule.name}
        )
        request.send_mail(
            address,
            subject,
            MAIL_TEMPLATE,
            {
                "rule": rule,
                "alerts": visible[:limit],
                "more": max(0, len(visible) - limit),
                "link": link,
            },
        )
        sent += 1
    return sent


# --- after an evaluation ---------------------------------------------------------------------


def dispatch(request, evaluation) -> None:
    """Queue the e-mails and webhooks of what ``evaluation`` opened and cleared."""
    rule_ids = set(evaluation.opened) | set(evaluation.cleared)
    if not rule_ids:
        return
    rules = {
        r.id: r
        for r in request.dbsession.execute(
            sa.select(AlertRule).where(AlertRule.id.in_(rule_ids)), execution_options=UNSCOPED
        ).scalars()
    }
    for rule_id, ids in sorted(evaluation.opened.items()):
        rule = rules[rule_id]
        if rule.webhook_url:
            queue_webhooks(request, rule, "alert.opened", ids)
        send_emails(request, rule, ids)
    for rule_id, ids in sorted(evaluation.cleared.items()):
        rule = rules[rule_id]
        if rule.webhook_url:
            queue_webhooks(request, rule, "alert.resolved", ids)
