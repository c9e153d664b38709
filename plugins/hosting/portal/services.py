"""What the portal shows: a customer's fleet at a glance, their miners, alerts, preferences.

Everything is read through the request's scoped session, so a customer's numbers hold only
their own miners whatever the filters say. Staff who open the portal (owners hold every
permission) see the whole farm, or one customer's part with ``?customer_id=``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from hashinsight_core.db import utcnow
from plugins.hosting.models import RETIRED, Miner
from plugins.hosting.portal.models import PortalPreference
from plugins.hosting.telemetry.config import config_from_request
from plugins.hosting.telemetry.derived import realized_ratio
from plugins.hosting.telemetry.models import TelemetryLive
from plugins.hosting.telemetry.read import fleet_5min_series, fleet_totals

TOPICS = {"tickets": "mail_tickets", "alerts": "mail_alerts"}
SPARK_WIDTH, SPARK_HEIGHT = 300, 60


def uptime(series: list[dict]) -> dict:
    """Reachable and hashing uptime over 5-minute rows: sample-weighted, None without data."""
    samples = sum(r["samples"] or 0 for r in series)
    if not samples:
        return {"reachable": None, "hashing": None, "samples": 0}
    online = sum(r["online_samples"] or 0 for r in series)
    hashing = sum(r["hashing_samples"] or 0 for r in series)
    return {"reachable": online / samples, "hashing": hashing / samples, "samples": samples}


def sparkline(values: list[float | None], top: float | None = None) -> str:
    """SVG polyline points for ``values`` in a SPARK_WIDTH x SPARK_HEIGHT box ("" if < 2)."""
    points = [v for v in values if v is not None]
    if len(points) < 2:
        return ""
    high = max(top or 0.0, max(points)) or 1.0
    step = SPARK_WIDTH / (len(points) - 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - (v / high) * (SPARK_HEIGHT - 4) - 2:.1f}"
        for i, v in enumerate(points)
    )


def summary(request, customer_id: int | None = None, *, now: dt.datetime | None = None) -> dict:
    """Counts by live state, hashrate against nominal and uptime over the last 24 hours."""
    db = request.dbsession
    now = now or utcnow()
    totals = fleet_totals(db, now=now, config=config_from_request(request), customer_id=customer_id)
    inventory = (
        sa.select(
            sa.func.count(Miner.id),
            sa.func.count(TelemetryLive.miner_id),
            sa.func.coalesce(sa.func.sum(Miner.nominal_ths), 0),
        )
        .select_from(Miner)
        .outerjoin(TelemetryLive, TelemetryLive.miner_id == Miner.id)
        .where(Miner.status != RETIRED)
    )
    if customer_id is not None:
        inventory = inventory.where(Miner.customer_id == customer_id)
    in_inventory, reporting, nominal_all = db.execute(inventory).one()
    nominal_all = float(nominal_all)
    series = fleet_5min_series(
        db, start=now - dt.timedelta(hours=24), end=now, customer_id=customer_id
    )
    rates = [r["hashrate_avg_ths"] for r in series]
    nominal = max((r["nominal_ths"] or 0 for r in series), default=0) or None
    return {
        "miners": in_inventory,
        "online": totals["online"] - totals["warning"],
        "warning": totals["warning"],
        "offline": totals["offline"],
        "nodata": in_inventory - reporting,
        "hashrate_ths": totals["hashrate_ths"],
        # Nominal of every miner in the inventory: one that never reported still costs.
        "nominal_ths": nominal_all,
        "realized_ratio": realized_ratio(totals["hashrate_ths"], nominal_all),
        "newest_poll": totals["newest_poll"],
        "uptime": uptime(series),
        "spark": sparkline(rates, nominal),
        "spark_nominal": sparkline([nominal] * len(rates), nominal) if nominal else "",
    }


def preferences(db, user_id: int) -> dict:
    row = db.get(PortalPreference, user_id)
    return {topic: (getattr(row, column) if row else True) for topic, column in TOPICS.items()}


def save_preferences(request, user_id: int, form) -> dict:
    """Store the checkboxes of the preferences form (an unticked box is "no")."""
    db = request.dbsession
    values = {column: form.get(column) in ("on", "true", "1") for column in TOPICS.values()}
    row = db.get(PortalPreference, user_id)
    if row is None:
        row = PortalPreference(user_id=user_id, **values)
        db.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    db.flush()
    return preferences(db, user_id)


def wants_mail(db, user_id: int | None, topic: str) -> bool:
    if topic not in TOPICS:
        raise ValueError(f"topic must be one of {', '.join(TOPICS)}")
    if user_id is None:
        return True
    value = db.scalar(
        sa.select(getattr(PortalPreference, TOPICS[topic])).where(
            PortalPreference.user_id == user_id
        )
    )
    return True if value is None else bool(value)
