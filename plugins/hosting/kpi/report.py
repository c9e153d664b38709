"""A KPI report as the page, the JSON API and the exports show it: the engine's sums turned into
figures with names, daily series, fleet health and ticket figures.

``build`` is the one place the numbers are made, so the page, the API, the CSV and the Excel
file cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.models import Customer
from plugins.hosting.kpi import engine, tickets
from plugins.hosting.kpi.engine import GROUPS, HEALTH_STATES, Filters
from plugins.hosting.kpi.period import Period, parse_period
from plugins.hosting.models import Site, Zone
from plugins.hosting.telemetry.config import TelemetryConfig

_ = TranslationStringFactory("hashinsight")

SERIES_FIGURES = (
    "reachable_uptime",
    "reachable_uptime_excl",
    "hashing_uptime",
    "hashing_uptime_excl",
    "hashrate_ths",
    "nominal_ths",
    "energy_kwh",
)


@dataclass(frozen=True)
class Query:
    period: Period
    group_by: str
    filters: Filters


def _int_param(params, name: str) -> int | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise InvalidInput(_("${name} must be a whole number", mapping={"name": name}), name)
    return int(text)


def parse_query(params, now: dt.datetime, *, drill: bool = False) -> Query:
    """Period, grouping and filters from query parameters; 422 naming the bad one.

    The drill-down (``drill``) needs ``group`` and ``key``: the group whose miners to list.
    """
    period = parse_period(params, now)
    group_by = (params.get("group_by") or "site").strip()
    if group_by not in GROUPS:
        raise InvalidInput(
            _("group_by must be one of ${choices}", mapping={"choices": ", ".join(GROUPS)}),
            "group_by",
        )
    site_id = _int_param(params, "site_id")
    group, key = None, None
    if drill:
        group = (params.get("group") or "").strip()
        if group not in GROUPS:
            raise InvalidInput(
                _("group must be one of ${choices}", mapping={"choices": ", ".join(GROUPS)}),
                "group",
            )
        raw = params.get("key")
        if raw is None:
            raise InvalidInput(_("key is required"), "key")
        raw = raw.strip()
        if group == "model":
            key = raw
        elif group == "customer" and raw in ("", "none"):
            key = None
        else:
            key = _int_param({"key": raw}, "key")
            if key is None:
                raise InvalidInput(_("key must be a whole number"), "key")
    return Query(period, group_by, Filters(site_id=site_id, group=group, key=key))


# --- names ------------------------------------------------------------------------------------


def labels(db, group_by: str, keys) -> dict:
    """Display names of group keys (one query per kind)."""
    ids = sorted({k for k in keys if k is not None and not isinstance(k, str)})
    if group_by == "site":
        found = dict(db.execute(sa.select(Site.id, Site.name).where(Site.id.in_(ids))).all())
    elif group_by == "zone":
        found = {
            zid: f"{site} / {zone}"
            for zid, zone, site in db.execute(
                sa.select(Zone.id, Zone.name, Site.name)
                .join(Site, Site.id == Zone.site_id)
                .where(Zone.id.in_(ids))
            )
        }
    elif group_by == "customer":
        found = dict(
            db.execute(sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all()
        )
    else:
        found = {}
    out = {}
    for key in keys:
        if group_by == "model":
            out[key] = key or "?"
        elif key is None:
            out[key] = "-"
        else:
            out[key] = found.get(key, f"#{key}")
    return out


def key_text(key) -> str:
    """A group key as it travels in URLs and files ("none": miners without a customer)."""
    return "none" if key is None else str(key)


# --- the report -------------------------------------------------------------------------------


def build(db, query: Query, *, now: dt.datetime, config: TelemetryConfig, scope) -> dict:
    """Everything the KPI page shows, for the account whose ``scope`` the session carries."""
    report = engine.compute(db, query.period, query.group_by, query.filters)
    intervals = query.period.buckets
    keys = list(report.groups)
    # A customer compares its energy with its miners' nameplate, never with a site's capacity.
    own_capacity = scope is None or (scope.customer_id is None and not scope.no_customer)
    capacity = engine.capacities(db, query.group_by, keys) if own_capacity else {}
    health = engine.health(db, query.group_by, query.filters, now, config)
    ticket_figures = tickets.figures(db, query.period, query.group_by, query.filters)
    names = labels(db, query.group_by, set(keys) | set(health))

    rows = []
    for key in sorted(set(keys) | set(health), key=lambda k: str(names.get(k, k)).lower()):
        sums = report.groups.get(key, engine.Totals())
        row = {
            "key": key_text(key),
            "label": names.get(key, str(key)),
            **sums.figures(intervals, capacity.get(key)),
            "health": health.get(key, dict.fromkeys(HEALTH_STATES, 0)),
        }
        if ticket_figures is not None:
            row["tickets"] = ticket_figures["groups"].get(key, tickets.empty())
        rows.append(row)

    place_capacity = None
    if own_capacity and query.group_by in ("site", "zone") and capacity:
        place_capacity = sum(capacity.get(k) or 0.0 for k in keys)
    total = {
        **report.total.figures(intervals, place_capacity),
        "health": _sum_health(health.values()),
    }
    if ticket_figures is not None:
        total["tickets"] = ticket_figures["total"]

    days = query.period.days()
    series = {"days": [d.isoformat() for d in days], "total": {}, "groups": []}
    day_figures = [report.day_totals[d].figures(query.period.day_buckets(d)) for d in days]
    for name in SERIES_FIGURES:
        series["total"][name] = [f[name] for f in day_figures]
    for row_key in sorted(keys, key=lambda k: str(names.get(k, k)).lower()):
        per_day = [
            report.days[d].get(row_key, engine.Totals()).figures(query.period.day_buckets(d))
            for d in days
        ]
        series["groups"].append(
            {
                "key": key_text(row_key),
                "label": names.get(row_key, str(row_key)),
                **{name: [f[name] for f in per_day] for name in SERIES_FIGURES},
            }
        )
    return {
        "period": query.period.as_dict(),
        "group_by": query.group_by,
        "site_id": query.filters.site_id,
        "as_of": now.isoformat(timespec="seconds") + "Z",
        "total": total,
        "groups": rows,
        "series": series,
        "tickets_available": ticket_figures is not None,
        "definitions": {
            "interval_minutes": 5,
            "hashing_threshold": engine.HASHING_THRESHOLD,
            "expected_statuses": list(engine.EXPECTED_STATUSES),
        },
    }


def _sum_health(groups) -> dict[str, int]:
    total = dict.fromkeys(HEALTH_STATES, 0)
    for counts in groups:
        for name, count in counts.items():
            total[name] += count
    return total


def build_miners(db, query: Query, *, now: dt.datetime, config: TelemetryConfig) -> dict:
    """The drill-down: each expected miner of one group with its own figures."""
    report = engine.compute(db, query.period, "miner", query.filters)
    intervals = query.period.buckets
    health = engine.health(db, "miner", query.filters, now, config)
    state_of = {
        miner_id: next((s for s, n in counts.items() if n), "offline")
        for miner_id, counts in health.items()
    }
    group_names = labels(db, query.filters.group, [query.filters.key])
    rows = []
    for miner in sorted(report.miners.values(), key=lambda m: (m.serial or "", m.id)):
        sums = report.groups.get(miner.id, engine.Totals())
        figures = sums.figures(intervals)
        rows.append(
            {
                "miner_id": miner.id,
                "serial": miner.serial,
                "model_name": miner.model_name,
                "status": miner.status,
                "health": state_of.get(miner.id, "offline"),
                **{k: v for k, v in figures.items() if k not in ("miners", "capacity_basis")},
            }
        )
    return {
        "period": query.period.as_dict(),
        "group": query.filters.group,
        "key": key_text(query.filters.key),
        "label": group_names.get(query.filters.key),
        "site_id": query.filters.site_id,
        "total": report.total.figures(intervals),
        "miners": rows,
    }
