"""The alert evaluator: every minute, each enabled rule is checked against the whole fleet
with a handful of set-based statements — no query per miner, no miner rows in Python.

Per rule (``C`` = the subjects whose condition holds now, ``H`` = those not yet past the
clear threshold; ``C`` ⊆ ``H``)::

    1 upsert    states  <- C         new: true_since = the condition's start (or now);
                                     known: false_since = NULL, value refreshed
    2 update    states of open alerts in H      false_since = NULL
    3 update    states of open alerts not in H  false_since = coalesce(false_since, now)
    4 delete    pending states not in C         (the streak broke before it fired)
    5 insert    alerts  <- pending states with true_since <= now - for_minutes
    6 update    states.alert_id of those        (via the alert's unique open_key)
    7 update    alerts resolved <- states with false_since <= now - clear_minutes
    8 delete    those states

Hysteresis is steps 2, 3 and 7 (and the clear threshold making ``H`` larger than ``C``);
de-duplication is the state row (one per rule and subject) plus the unique ``open_key`` of an
open alert. Running the evaluator twice in the same minute changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hashinsight_core.db import utcnow
from plugins.hosting.alerts.config import AlertConfig, alert_config
from plugins.hosting.alerts.models import Alert, AlertRule, AlertState
from plugins.hosting.alerts.rules import KIND_SPECS
from plugins.hosting.models import MAINTENANCE, RETIRED, RMA, EdgeDevice, Miner
from plugins.hosting.telemetry.config import TelemetryConfig, config_from_request
from plugins.hosting.telemetry.models import TelemetryFiveMin, TelemetryLive
from plugins.hosting.telemetry.txn import mark_written

log = logging.getLogger(__name__)

LIVE = TelemetryLive.__table__
FIVE = TelemetryFiveMin.__table__
MINERS = Miner.__table__
DEVICES = EdgeDevice.__table__
STATES = AlertState.__table__
ALERTS = Alert.__table__

# Miners a person took out of service raise no alerts (and their open alerts clear).
INACTIVE = (MAINTENANCE, RMA, RETIRED)
ANALYZE_AFTER = 1000  # alerts opened by one rule in one run


@dataclass
class Evaluation:
    """What one run did: alert ids opened and cleared, per rule id."""

    now: dt.datetime
    rules: int = 0
    opened: dict[int, list[int]] = field(default_factory=dict)
    cleared: dict[int, list[int]] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "rules": self.rules,
            "opened": sum(len(v) for v in self.opened.values()),
            "cleared": sum(len(v) for v in self.cleared.values()),
            "seconds": round(self.seconds, 3),
        }


# --- conditions -----------------------------------------------------------------------------
# Each returns a SELECT of (subject_id, site_id, zone_id, customer_id, value, since).


def _float(value) -> sa.ColumnElement:
    return sa.cast(value, sa.Float)


def _no_value():
    return sa.cast(sa.null(), sa.Float)


def _miner_filters(rule: AlertRule) -> list:
    clauses = [MINERS.c.status.notin_(INACTIVE)]
    if rule.site_id is not None:
        clauses.append(MINERS.c.site_id == rule.site_id)
    if rule.zone_id is not None:
        clauses.append(MINERS.c.zone_id == rule.zone_id)
    if rule.customer_id is not None:
        clauses.append(MINERS.c.customer_id == rule.customer_id)
    if rule.model_name:
        clauses.append(MINERS.c.model_name == rule.model_name)
    return clauses


def _miner_select(rule, source, condition, value, since) -> sa.Select:
    return (
        sa.select(
            MINERS.c.id.label("subject_id"),
            MINERS.c.site_id.label("site_id"),
            MINERS.c.zone_id.label("zone_id"),
            MINERS.c.customer_id.label("customer_id"),
            value.label("value"),
            since.label("since"),
        )
        .select_from(source)
        .where(*_miner_filters(rule), condition)
    )


def _live_conditions(rule, now, telemetry: TelemetryConfig, threshold, clear):
    live = LIVE.c
    source = LIVE.join(MINERS, MINERS.c.id == live.miner_id)
    fresh = sa.and_(live.online.is_(True), live.ts >= now - telemetry.stale_after)
    at_now = sa.literal(now, sa.DateTime)
    kind = rule.kind

    def pair(make, value, since=at_now):
        fire = _miner_select(rule, source, make(threshold), value, since)
        hold = (
            fire if clear == threshold else _miner_select(rule, source, make(clear), value, since)
        )
        return fire, hold

    if kind == "offline":
        # Unreachable at the last poll, or no poll for longer than stale_after: offline since
        # the last poll at the latest.
        return pair(lambda _t: sa.not_(fresh), _no_value(), live.ts)
    if kind == "low_hashrate":
        nominal = sa.func.coalesce(MINERS.c.nominal_ths, live.nominal_ths)
        hashrate = sa.func.coalesce(live.hashrate_ths, 0)
        return pair(
            lambda t: sa.and_(fresh, nominal > 0, hashrate < nominal * (t / 100.0)),
            _float(100.0 * hashrate / sa.func.nullif(nominal, 0)),
        )
    if kind == "high_temp":
        return pair(lambda t: sa.and_(fresh, live.temp_max_c > t), _float(live.temp_max_c))
    if kind == "fan_failure":

        def failing(t):
            failed = live.fans_failed > 0
            return sa.and_(fresh, failed if t is None else sa.or_(failed, live.fan_min_rpm < t))

        value = live.fans_failed if threshold is None else live.fan_min_rpm
        return pair(failing, _float(value))
    if kind == "board_missing":
        missing = live.boards_total - live.boards_ok
        return pair(lambda t: sa.and_(fresh, missing >= t), _float(missing))
    raise ValueError(kind)


def _five_minute_conditions(rule, now, threshold, clear):
    five = FIVE.c
    window = (
        sa.select(
            five.miner_id,
            sa.func.sum(five.online_samples).label("online"),
            sa.func.sum(five.accepted_delta).label("accepted"),
            sa.func.sum(five.rejected_delta).label("rejected"),
        )
        .where(
            five.bucket >= now - dt.timedelta(minutes=rule.window_minutes),
            five.bucket <= now,
        )
        .group_by(five.miner_id)
        .subquery("window")
    )
    source = window.join(MINERS, MINERS.c.id == window.c.miner_id)
    at_now = sa.literal(now, sa.DateTime)
    if rule.kind == "pool_down":
        condition = sa.and_(window.c.online > 0, window.c.accepted == 0)
        fire = _miner_select(rule, source, condition, _no_value(), at_now)
        return fire, fire
    if rule.kind == "reject_rate":
        total = window.c.accepted + window.c.rejected
        rate = 100.0 * window.c.rejected / sa.func.nullif(total, 0)

        def make(t):
            return _miner_select(rule, source, sa.and_(total > 0, rate > t), _float(rate), at_now)

        fire = make(threshold)
        return fire, fire if clear == threshold else make(clear)
    raise ValueError(rule.kind)


def _device_conditions(rule, now, config: AlertConfig):
    dev = DEVICES.c
    last = sa.func.coalesce(dev.last_seen_at, dev.created_at)
    clauses = [
        dev.revoked_at.is_(None),
        last < now - dt.timedelta(seconds=config.device_quiet_seconds),
    ]
    if rule.site_id is not None:
        clauses.append(dev.site_id == rule.site_id)
    if rule.zone_id is not None:
        clauses.append(dev.zone_id == rule.zone_id)
    fire = sa.select(
        dev.id.label("subject_id"),
        dev.site_id.label("site_id"),
        dev.zone_id.label("zone_id"),
        sa.cast(sa.null(), sa.Integer).label("customer_id"),
        _no_value().label("value"),
        last.label("since"),
    ).where(*clauses)
    return fire, fire


def conditions(rule: AlertRule, now, telemetry: TelemetryConfig, config: AlertConfig):
    """(fire, hold) SELECTs for ``rule`` at ``now``."""
    spec = KIND_SPECS[rule.kind]
    threshold = rule.threshold if rule.threshold is not None else spec.default_threshold
    clear = rule.clear_threshold if rule.clear_threshold is not None else threshold
    if spec.source == "live":
        return _live_conditions(rule, now, telemetry, threshold, clear)
    if spec.source == "5min":
        return _five_minute_conditions(rule, now, threshold, clear)
    return _device_conditions(rule, now, config)


# --- the steps ------------------------------------------------------------------------------


def _insert(dbsession):
    name = dbsession.get_bind().dialect.name
    return pg_insert if name == "postgresql" else sqlite_insert


def evaluate_rule(dbsession, rule: AlertRule, now, telemetry, config) -> tuple[list, list]:
    """Run the eight steps for one rule; returns (opened alert ids, cleared alert ids)."""
    spec = KIND_SPECS[rule.kind]
    subject = spec.subject
    fire, hold = conditions(rule, now, telemetry, config)
    fire_q = fire.subquery("fire")
    fire_ids = sa.select(fire_q.c.subject_id)
    hold_ids = fire_ids if hold is fire else sa.select(hold.subquery("hold").c.subject_id)
    st = STATES.c
    mine = sa.and_(st.rule_id == rule.id, st.subject_type == subject)
    execute = dbsession.execute

    # 1. upsert the subjects whose condition holds
    insert = _insert(dbsession)(STATES).from_select(
        [
            "rule_id",
            "subject_type",
            "subject_id",
            "site_id",
            "zone_id",
            "customer_id",
            "value",
            "true_since",
        ],
        sa.select(
            sa.literal(rule.id, sa.Integer),
            sa.literal(subject, sa.String),
            fire_q.c.subject_id,
            fire_q.c.site_id,
            fire_q.c.zone_id,
            fire_q.c.customer_id,
            fire_q.c.value,
            sa.func.coalesce(fire_q.c.since, sa.literal(now, sa.DateTime)),
        ).where(sa.true()),  # SQLite: a WHERE keeps "ON CONFLICT" from reading as a join
    )
    execute(
        insert.on_conflict_do_update(
            index_elements=["rule_id", "subject_type", "subject_id"],
            set_={
                "site_id": insert.excluded.site_id,
                "zone_id": insert.excluded.zone_id,
                "customer_id": insert.excluded.customer_id,
                "value": insert.excluded.value,
                "false_since": None,
            },
        )
    )
    has_alert = sa.and_(mine, st.alert_id.is_not(None))
    # 2./3. open alerts: still bad (not past the clear threshold) or on the way to clearing
    if hold is not fire:
        execute(
            sa.update(STATES)
            .where(has_alert, st.false_since.is_not(None), st.subject_id.in_(hold_ids))
            .values(false_since=None)
        )
    execute(
        sa.update(STATES)
        .where(has_alert, st.false_since.is_(None), st.subject_id.not_in(hold_ids))
        .values(false_since=now)
    )
    # 4. pending streaks that broke
    execute(sa.delete(STATES).where(mine, st.alert_id.is_(None), st.subject_id.not_in(fire_ids)))
    # 5./6. fire what held long enough (one open alert per rule and subject: open_key)
    due = sa.and_(
        mine,
        st.alert_id.is_(None),
        st.true_since <= now - dt.timedelta(minutes=rule.for_minutes),
    )
    prefix = f"{rule.id}:{subject}:"
    key = sa.literal(prefix, sa.String) + sa.cast(st.subject_id, sa.String)
    if subject == "miner":
        label_source = STATES.outerjoin(MINERS, MINERS.c.id == st.subject_id)
        label = sa.func.coalesce(
            MINERS.c.serial,
            MINERS.c.mac,
            sa.literal("#", sa.String) + sa.cast(st.subject_id, sa.String),
        )
    else:
        label_source = STATES.outerjoin(DEVICES, DEVICES.c.id == st.subject_id)
        label = sa.func.coalesce(
            DEVICES.c.name, sa.literal("#", sa.String) + sa.cast(st.subject_id, sa.String)
        )
    columns = {
        "rule_id": sa.literal(rule.id, sa.Integer),
        "rule_name": sa.literal(rule.name, sa.String),
        "kind": sa.literal(rule.kind, sa.String),
        "severity": sa.literal(rule.severity, sa.String),
        "subject_type": sa.literal(subject, sa.String),
        "subject_id": st.subject_id,
        "subject_label": sa.func.substr(label, 1, 200),
        "site_id": st.site_id,
        "zone_id": st.zone_id,
        "customer_id": st.customer_id,
        "status": sa.literal("open", sa.String),
        "value": st.value,
        "threshold": sa.literal(rule.threshold, sa.Float),
        "since": st.true_since,
        "opened_at": sa.literal(now, sa.DateTime),
        "ack_note": sa.literal("", sa.String),
        "resolve_note": sa.literal("", sa.String),
        "open_key": key,
    }
    opened = list(
        execute(
            sa.insert(ALERTS)
            .from_select(
                list(columns), sa.select(*columns.values()).select_from(label_source).where(due)
            )
            .returning(ALERTS.c.id)
        ).scalars()
    )
    if opened:
        if len(opened) >= ANALYZE_AFTER and dbsession.get_bind().dialect.name == "postgresql":
            # A mass event (a site losing power) just added thousands of rows to both tables;
            # without fresh statistics the planner joins them as if they were tiny (a nested
            # loop of seq scans: 40 s instead of 0.3 s for 30,000 alerts).
            execute(sa.text("ANALYZE hosting_alerts, hosting_alert_states"))
        execute(
            sa.update(STATES)
            .where(
                due,
                ALERTS.c.rule_id == rule.id,
                ALERTS.c.subject_type == subject,
                ALERTS.c.subject_id == st.subject_id,
                ALERTS.c.open_key.is_not(None),
            )
            .values(alert_id=ALERTS.c.id)
        )
    # 7./8. clear what stayed good long enough
    cleared_states = sa.and_(
        has_alert, st.false_since <= now - dt.timedelta(minutes=rule.clear_minutes)
    )
    cleared = list(
        execute(
            sa.update(ALERTS)
            .where(ALERTS.c.id.in_(sa.select(st.alert_id).where(cleared_states)))
            .values(status="resolved", resolved_at=now, resolution="cleared", open_key=None)
            .returning(ALERTS.c.id)
        ).scalars()
    )
    if cleared:
        execute(sa.delete(STATES).where(cleared_states))
    return opened, cleared


def evaluate(
    dbsession,
    *,
    now: dt.datetime | None = None,
    telemetry: TelemetryConfig | None = None,
    config: AlertConfig | None = None,
) -> Evaluation:
    """Evaluate every enabled rule at ``now`` in the caller's transaction (never commits)."""
    started = time.perf_counter()
    now = now or utcnow()
    telemetry = telemetry or TelemetryConfig()
    config = config or AlertConfig()
    result = Evaluation(now=now)
    # FOR UPDATE (PostgreSQL): a second evaluator waits for this one rather than racing it.
    rules = list(
        dbsession.scalars(
            sa.select(AlertRule)
            .where(AlertRule.enabled.is_(True))
            .order_by(AlertRule.id)
            .with_for_update()
        )
    )
    for rule in rules:
        opened, cleared = evaluate_rule(dbsession, rule, now, telemetry, config)
        if opened:
            result.opened[rule.id] = opened
        if cleared:
            result.cleared[rule.id] = cleared
    result.rules = len(rules)
    mark_written(dbsession)
    result.seconds = time.perf_counter() - started
    return result


def evaluate_and_notify(request, now: dt.datetime | None = None) -> Evaluation:
    """Evaluate in the request's transaction, then queue notifications (sent after commit)."""
    from plugins.hosting.alerts import notify

    result = evaluate(
        request.dbsession,
        now=now,
        telemetry=config_from_request(request),
        config=alert_config(request),
    )
    notify.dispatch(request, result)
    # Rules with open_ticket: one ticket per incident (plugins/hosting/tickets).
    from plugins.hosting.tickets import on_alerts

    on_alerts(request, result)
    return result


def evaluate_job(request) -> dict:
    """The periodic task (every minute)."""
    summary = evaluate_and_notify(request).as_dict()
    if summary["opened"] or summary["cleared"]:
        log.info("alerts evaluated: %s", summary)
    return summary
