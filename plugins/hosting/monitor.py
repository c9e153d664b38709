"""Monitoring: the fleet overview, the site heatmap, the live miner table and the miner charts,
with small JSON answers the pages poll for live refresh.

Every figure comes from the telemetry tables (``plugins.hosting.telemetry``): counts and totals
from the live table (one row per miner), curves from the 5-minute rows, a miner's 24 hours
from raw. Queries run on the request's scoped session, so a customer sees only its own miners
and a site-limited operator only its sites and zones (``hashinsight_core.scoping``).

The live table is built for 30,000 miners: one statement counts, one fetches the page (the
miners table joined to the live table on its primary key, filtered on the miners' indexed
columns, sorted and cut in the database), and the names on the page (sites, zones, racks,
customers) come in one query each — never one per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory
from pyramid.interfaces import IRoutesMapper
from pyramid.view import view_config

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.models import Customer
from hashinsight_core.scoping import object_factory
from plugins.hosting import services
from plugins.hosting.models import RETIRED, Miner, Rack, Site, Zone
from plugins.hosting.permissions import HostingPermission as P
from plugins.hosting.telemetry.config import TelemetryConfig, config_from_request
from plugins.hosting.telemetry.derived import joules_per_th, realized_ratio
from plugins.hosting.telemetry.models import TelemetryLive
from plugins.hosting.telemetry.read import (
    fleet_5min_series,
    fleet_totals,
    miner_5min_series,
    miner_raw_series,
    status_conditions,
)

_ = TranslationStringFactory("hashinsight")
T = "plugins.hosting:templates/hosting/"
STATES = ("online", "warning", "offline", "nodata")
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
ALERTS_PATH = "/hosting/alerts/"
REFRESH_SECONDS = 15


def client_strings() -> list:
    """Words the monitoring scripts show (charts, states, refresh note), translated server-side."""
    return [
        _("online"),
        _("warning"),
        _("offline"),
        _("no data"),
        _("Hashrate (TH/s)"),
        _("Nominal (TH/s)"),
        _("Power (kW)"),
        _("Power (W)"),
        _("Temperature (°C)"),
        _("Uptime (%)"),
        _("Updated"),
        _("Live updates paused: the server did not answer."),
        _("No miners match."),
        _("No telemetry yet."),
        _("of nominal"),
    ]


def includeme(config):
    add = config.add_route
    add("hosting.monitor.fleet", "/hosting/monitor/")
    add("hosting.monitor.heatmap", "/hosting/monitor/heatmap/")
    add("hosting.monitor.live", "/hosting/monitor/miners/")
    add("hosting.api.monitor.fleet", "/api/v1/hosting/monitor/fleet")
    add("hosting.api.monitor.live", "/api/v1/hosting/monitor/miners")
    add("hosting.api.monitor.heatmap", "/api/v1/hosting/monitor/heatmap")
    add(
        "hosting.api.monitor.miner",
        "/api/v1/hosting/miners/{miner_id:\\d+}/telemetry",
        factory=object_factory(Miner, "miner_id"),
    )
    config.scan("plugins.hosting.monitor")


# --- helpers ----------------------------------------------------------------------------------


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def millis(value: dt.datetime) -> int:
    return int(value.replace(tzinfo=dt.UTC).timestamp() * 1000)


def alerts_url(request) -> str | None:
    """The alerts page, when a plugin serves one (``/hosting/alerts/``)."""
    mapper = request.registry.queryUtility(IRoutesMapper)
    for route in mapper.get_routes() if mapper else ():
        if route.pattern == ALERTS_PATH:
            return request.route_path(route.name)
    return None


def state_of(config: TelemetryConfig, now: dt.datetime):
    """SQL for a miner's monitoring state: online, warning, offline or nodata (never reported).

    Online and warning follow ``status_conditions`` of the telemetry layer, so the table and
    the fleet counts agree.
    """
    live = TelemetryLive
    online, warning = status_conditions(config, now)
    return sa.case(
        (live.miner_id.is_(None), "nodata"),
        (warning, "warning"),
        (online, "online"),
        else_="offline",
    )


def state_clause(state: str, config: TelemetryConfig, now: dt.datetime):
    """A filter by state; ``online`` includes the warnings, as the fleet counts do."""
    live = TelemetryLive
    online, warning = status_conditions(config, now)
    return {
        "online": online,
        "warning": warning,
        "offline": sa.and_(live.miner_id.is_not(None), sa.not_(online)),
        "nodata": live.miner_id.is_(None),
    }[state]


def _int(text, name: str, low: int = 1, high: int = 2**31 - 1) -> int | None:
    """A whole number from a query string, or None when absent; bad -> InvalidInput (422)."""
    if text is None or str(text).strip() == "":
        return None
    text = str(text).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(
            _(
                "${name} must be a whole number from ${low} to ${high}",
                mapping={"name": name, "low": low, "high": high},
            ),
            name,
        )
    return int(text)


# --- fleet overview -----------------------------------------------------------------------------


def fleet_overview(request, *, site_id: int | None = None, hours: int = 24) -> dict:
    db = request.dbsession
    config = config_from_request(request)
    now = utcnow()
    totals = fleet_totals(db, now=now, config=config, site_id=site_id)
    live = TelemetryLive
    inventory = (
        sa.select(sa.func.count(Miner.id), sa.func.count(live.miner_id))
        .select_from(Miner)
        .outerjoin(live, live.miner_id == Miner.id)
        .where(Miner.status != RETIRED)
    )
    if site_id is not None:
        inventory = inventory.where(Miner.site_id == site_id)
    in_inventory, reporting = db.execute(inventory).one()

    online, warning = status_conditions(config, now)

    def when(condition, value):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    # Efficiency over the online miners that report power: many firmwares (stock Antminer)
    # report none, and counting their hashrate would make the farm look better than it is.
    metered = sa.and_(online, live.power_w.is_not(None))
    per_site = (
        sa.select(
            live.site_id,
            sa.func.count(),
            when(online, 1),
            when(warning, 1),
            when(online, sa.func.coalesce(live.hashrate_ths, 0)),
            sa.func.coalesce(sa.func.sum(live.nominal_ths), 0),
            when(online, sa.func.coalesce(live.power_w, 0)),
            when(metered, 1),
            when(metered, sa.func.coalesce(live.hashrate_ths, 0)),
        )
        .group_by(live.site_id)
        .order_by(live.site_id)
    )
    if site_id is not None:
        per_site = per_site.where(live.site_id == site_id)
    names = dict(db.execute(sa.select(Site.id, Site.name)).all())
    sites = []
    all_metered, all_metered_rate = 0, 0.0
    for sid, miners, up, warn, rate, nominal, power, meters, metered_rate in db.execute(per_site):
        rate, nominal, power = float(rate), float(nominal), float(power)
        all_metered += int(meters)
        all_metered_rate += float(metered_rate)
        sites.append(
            {
                "site_id": sid,
                "name": names.get(sid, f"#{sid}"),
                "miners": miners,
                "online": int(up),
                "warning": int(warn),
                "offline": miners - int(up),
                "hashrate_ths": rate,
                "nominal_ths": nominal,
                "power_w": power,
                "realized_ratio": realized_ratio(rate, nominal),
                "power_reporting": int(meters),
                "j_per_th": joules_per_th(power, float(metered_rate)),
            }
        )
    series = fleet_5min_series(db, start=now - dt.timedelta(hours=hours), end=now, site_id=site_id)
    newest = totals["newest_poll"]
    return {
        "as_of": iso(now),
        "newest_poll": iso(newest),
        "age_s": round((now - newest).total_seconds()) if newest else None,
        "miners": totals["miners"],
        "online": totals["online"],
        "warning": totals["warning"],
        "offline": totals["offline"],
        "nodata": in_inventory - reporting,
        "hashrate_ths": totals["hashrate_ths"],
        "nominal_ths": totals["nominal_ths"],
        "realized_ratio": totals["realized_ratio"],
        "power_w": totals["power_w"],
        "power_reporting": all_metered,
        "j_per_th": joules_per_th(totals["power_w"], all_metered_rate),
        "sites": sites,
        "series": {
            "t": [millis(r["bucket"]) for r in series],
            "hashrate_ths": [r["hashrate_avg_ths"] for r in series],
            "nominal_ths": [r["nominal_ths"] for r in series],
            "power_w": [r["power_avg_w"] for r in series],
        },
    }


# --- the live table ---------------------------------------------------------------------------

SORTS = {
    "miner": (Miner.serial,),
    "model": (Miner.model_name,),
    "state": (),  # filled in per request (the expression depends on now)
    "hashrate": (TelemetryLive.hashrate_ths,),
    "ratio": (TelemetryLive.hashrate_ths / sa.func.nullif(Miner.nominal_ths, 0),),
    "temp": (TelemetryLive.temp_max_c,),
    "power": (TelemetryLive.power_w,),
    "efficiency": (TelemetryLive.power_w / sa.func.nullif(TelemetryLive.hashrate_ths, 0),),
    "seen": (TelemetryLive.ts,),
}
STATE_ORDER = {"warning": 0, "offline": 1, "nodata": 2, "online": 3}


@dataclass
class LiveQuery:
    site_id: int | None = None
    zone_id: int | None = None
    customer_id: int | None = None
    model: str = ""
    state: str = ""
    q: str = ""
    sort: str = "miner"
    order: str = "asc"
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0

    def as_params(self, **changes) -> dict:
        """The query string that shows this table (defaults left out), with ``changes``."""
        values = {**self.__dict__, **changes}
        params = {}
        for key, value in values.items():
            default = LiveQuery.__dataclass_fields__[key].default
            if value not in (None, "") and value != default:
                params[key] = value
        return params


def parse_live_query(params, *, strict: bool) -> LiveQuery:
    """The table's filters from a query string.

    ``strict`` (the JSON API): a bad value is a 422 naming the parameter. Pages are lenient:
    a bad value is ignored, so an edited address still shows a table.
    """
    query = LiveQuery()
    checks = {
        "site_id": lambda v: _int(v, "site_id"),
        "zone_id": lambda v: _int(v, "zone_id"),
        "customer_id": lambda v: _int(v, "customer_id"),
        "limit": lambda v: _int(v, "limit", 1, max(PAGE_SIZES)),
        "offset": lambda v: _int(v, "offset", 0, 10**9),
    }
    for key, check in checks.items():
        try:
            value = check(params.get(key))
        except InvalidInput:
            if strict:
                raise
            value = None
        if value is not None:
            setattr(query, key, value)
    for key, choices in (
        ("state", STATES),
        ("sort", tuple(SORTS)),
        ("order", ("asc", "desc")),
    ):
        value = (params.get(key) or "").strip()
        if not value:
            continue
        if value not in choices:
            if strict:
                raise InvalidInput(
                    _(
                        "${name} must be one of ${choices}",
                        mapping={"name": key, "choices": ", ".join(choices)},
                    ),
                    key,
                )
            continue
        setattr(query, key, value)
    for key in ("model", "q"):
        value = (params.get(key) or "").strip()
        if len(value) > 100:
            if strict:
                raise InvalidInput(
                    _("${name} must be at most 100 characters", mapping={"name": key}), key
                )
            value = value[:100]
        setattr(query, key, value)
    return query


def live_page(request, query: LiveQuery) -> dict:
    """One page of the live table: ``{"items", "total", "limit", "offset", ...}``."""
    db = request.dbsession
    config = config_from_request(request)
    now = utcnow()
    live = TelemetryLive
    state = state_of(config, now)
    filters = {
        "site_id": query.site_id,
        "zone_id": query.zone_id,
        "customer_id": query.customer_id,
        "model": query.model,
        "q": query.q,
    }
    where = [*services.miner_filters(filters), Miner.status != RETIRED]
    if query.state:
        where.append(state_clause(query.state, config, now))
    joined = sa.select(sa.func.count(Miner.id)).select_from(Miner)
    joined = joined.outerjoin(live, live.miner_id == Miner.id).where(*where)
    total = db.scalar(joined) or 0
    items: list[dict] = []
    if query.offset < total:
        if query.sort == "state":
            order = sa.case(*((state == name, rank) for name, rank in STATE_ORDER.items()), else_=9)
            keys = (order,)
        else:
            keys = SORTS[query.sort]
        direction = [k.desc() if query.order == "desc" else k.asc() for k in keys]
        statement = (
            sa.select(
                Miner.id,
                Miner.serial,
                Miner.mac,
                Miner.model_name,
                Miner.site_id,
                Miner.zone_id,
                Miner.customer_id,
                Miner.rack_id,
                Miner.rack_row,
                Miner.rack_slot,
                Miner.nominal_ths,
                Miner.status,
                state.label("state"),
                live.ts,
                live.hashrate_ths,
                live.power_w,
                live.temp_max_c,
                live.fan_min_rpm,
                live.fans_failed,
                live.boards_ok,
                live.boards_total,
                live.error_class,
            )
            .select_from(Miner)
            .outerjoin(live, live.miner_id == Miner.id)
            .where(*where)
            .order_by(*[d.nulls_last() for d in direction], Miner.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        rows = db.execute(statement).all()
        items = _live_items(request, rows, now)
    return {
        "items": items,
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
        "as_of": iso(now),
    }


def _live_items(request, rows, now: dt.datetime) -> list[dict]:
    db = request.dbsession
    ids = {name: {getattr(r, name) for r in rows} - {None} for name in ("rack_id", "customer_id")}
    sites = dict(db.execute(sa.select(Site.id, Site.name)).all())
    zones = dict(
        db.execute(
            sa.select(Zone.id, Zone.name).where(Zone.id.in_({r.zone_id for r in rows}))
        ).all()
    )
    racks = {}
    if ids["rack_id"]:
        racks = dict(
            db.execute(sa.select(Rack.id, Rack.name).where(Rack.id.in_(ids["rack_id"]))).all()
        )
    customers = {}
    if ids["customer_id"]:
        customers = dict(
            db.execute(
                sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids["customer_id"]))
            ).all()
        )
    items = []
    for r in rows:
        position = ""
        if r.rack_id is not None:
            position = f"{racks.get(r.rack_id, '#' + str(r.rack_id))}/{r.rack_row}/{r.rack_slot}"
        items.append(
            {
                "id": r.id,
                "label": r.serial or r.mac or f"#{r.id}",
                "model": r.model_name,
                "site": sites.get(r.site_id, ""),
                "zone": zones.get(r.zone_id, ""),
                "position": position,
                "customer": customers.get(r.customer_id, ""),
                "lifecycle": r.status,
                "state": r.state,
                "seen": iso(r.ts),
                "age_s": round((now - r.ts).total_seconds()) if r.ts else None,
                "hashrate_ths": r.hashrate_ths,
                "nominal_ths": r.nominal_ths,
                "ratio": realized_ratio(r.hashrate_ths, r.nominal_ths),
                "power_w": r.power_w,
                "j_per_th": joules_per_th(r.power_w, r.hashrate_ths),
                "temp_max_c": r.temp_max_c,
                "fan_min_rpm": r.fan_min_rpm,
                "fans_failed": r.fans_failed,
                "boards": (
                    f"{r.boards_ok}/{r.boards_total}"
                    if r.boards_ok is not None and r.boards_total
                    else ""
                ),
                "error_class": r.error_class or "",
                "url": request.route_path("hosting.miner.detail", miner_id=r.id),
            }
        )
    return items


def live_choices(request, query: LiveQuery) -> dict:
    """What the filter form offers: the account's sites, zones, customers and models."""
    db = request.dbsession
    zones = sa.select(Zone.id, Zone.name, Zone.site_id).order_by(Zone.name)
    if query.site_id is not None:
        zones = zones.where(Zone.site_id == query.site_id)
    customers = []
    if request.user is not None and request.user.customer_id is None:
        customers = db.execute(
            sa.select(Customer.id, Customer.name).order_by(Customer.name).limit(500)
        ).all()
    models = db.scalars(
        sa.select(Miner.model_name).where(Miner.model_name != "").group_by(Miner.model_name)
    )
    return {
        "sites": db.execute(sa.select(Site.id, Site.name).order_by(Site.name)).all(),
        "zones": db.execute(zones).all(),
        "customers": customers,
        "models": sorted(models),
    }


# --- heatmap ------------------------------------------------------------------------------------


def heatmap(request, site_id: int | None) -> dict:
    """Racks of one site with a cell per racked miner: state, hottest sensor, % of nominal.

    Cells are compact lists ``[miner_id, rack_id, row, slot, state, temp_max_c, ratio_pct,
    hashrate_ths]`` so that a site of 15,000 miners stays a small answer.
    """
    db = request.dbsession
    sites = db.execute(sa.select(Site.id, Site.name).order_by(Site.name)).all()
    if site_id is None and sites:
        site_id = sites[0][0]
    if site_id is None or site_id not in {s[0] for s in sites}:
        return {"site_id": None, "sites": [list(s) for s in sites], "zones": [], "cells": []}
    config = config_from_request(request)
    now = utcnow()
    live = TelemetryLive
    zones = db.execute(
        sa.select(Zone.id, Zone.name).where(Zone.site_id == site_id).order_by(Zone.name)
    ).all()
    racks = db.execute(
        sa.select(Rack.id, Rack.zone_id, Rack.name, Rack.rows, Rack.slots)
        .where(Rack.site_id == site_id)
        .order_by(Rack.name)
    ).all()
    by_zone: dict[int, list] = {}
    for rack in racks:
        by_zone.setdefault(rack.zone_id, []).append(
            {"id": rack.id, "name": rack.name, "rows": rack.rows, "slots": rack.slots}
        )
    cells = db.execute(
        sa.select(
            Miner.id,
            Miner.rack_id,
            Miner.rack_row,
            Miner.rack_slot,
            state_of(config, now),
            live.temp_max_c,
            live.hashrate_ths,
            Miner.nominal_ths,
        )
        .select_from(Miner)
        .outerjoin(live, live.miner_id == Miner.id)
        .where(Miner.site_id == site_id, Miner.rack_id.is_not(None), Miner.status != RETIRED)
    ).all()
    unracked = db.scalar(
        sa.select(sa.func.count(Miner.id)).where(
            Miner.site_id == site_id, Miner.rack_id.is_(None), Miner.status != RETIRED
        )
    )

    def ratio(rate, nominal):
        value = realized_ratio(rate, nominal)
        return None if value is None else round(value * 100, 1)

    return {
        "site_id": site_id,
        "sites": [list(s) for s in sites],
        "as_of": iso(now),
        "zones": [
            {"id": z.id, "name": z.name, "racks": by_zone.get(z.id, [])}
            for z in zones
            if by_zone.get(z.id)
        ],
        "cells": [
            [
                c[0],
                c[1],
                c[2],
                c[3],
                c[4],
                None if c[5] is None else round(c[5], 1),
                ratio(c[6], c[7]),
                None if c[6] is None else round(c[6], 2),
            ]
            for c in cells
        ],
        "unracked": unracked or 0,
        "temp_warning_c": config.temp_warning_c,
        "low_ratio_pct": round(config.low_hashrate_ratio * 100),
    }


# --- one miner ----------------------------------------------------------------------------------


def miner_telemetry(request, miner: Miner) -> dict:
    """The miner's live reading, its last 24 h of polls and 90 days of hourly figures.

    The hourly figures come from the 5-minute rows: hashrate weighted by the polls of each
    bucket (an unanswered poll counts 0, as in the rollups), power and temperature the mean
    and the highest of the buckets that had them.
    """
    db = request.dbsession
    config = config_from_request(request)
    now = utcnow()
    live = db.execute(
        sa.select(TelemetryLive, state_of(config, now)).where(TelemetryLive.miner_id == miner.id)
    ).first()
    current = None
    if live is not None:
        row, state = live
        current = {
            "state": state,
            "seen": iso(row.ts),
            "age_s": round((now - row.ts).total_seconds()),
            "hashrate_ths": row.hashrate_ths,
            "hashrate_5s_ths": row.hashrate_5s_ths,
            "nominal_ths": miner.nominal_ths or row.nominal_ths,
            "ratio": realized_ratio(row.hashrate_ths, miner.nominal_ths or row.nominal_ths),
            "power_w": row.power_w,
            "j_per_th": joules_per_th(row.power_w, row.hashrate_ths),
            "temp_max_c": row.temp_max_c,
            "temp_avg_c": row.temp_avg_c,
            "fan_min_rpm": row.fan_min_rpm,
            "fans_failed": row.fans_failed,
            "boards_ok": row.boards_ok,
            "boards_total": row.boards_total,
            "uptime_s": row.uptime_s,
            "pool_url": row.pool_url,
            "error_class": row.error_class,
        }
    raw = miner_raw_series(db, miner.id, now=now, hours=24)
    hourly: dict[dt.datetime, dict] = {}
    for r in miner_5min_series(db, miner.id, now=now, days=90):
        hour = r["bucket"].replace(minute=0, second=0, microsecond=0)
        slot = hourly.setdefault(
            hour, {"samples": 0, "rate": 0.0, "power": [], "temp": None, "online": 0}
        )
        slot["samples"] += r["samples"]
        slot["online"] += r["online_samples"]
        slot["rate"] += (r["hashrate_avg_ths"] or 0.0) * r["samples"]
        if r["power_avg_w"] is not None:
            slot["power"].append(r["power_avg_w"])
        if r["temp_max_c"] is not None:
            slot["temp"] = max(slot["temp"] or r["temp_max_c"], r["temp_max_c"])
    hours = sorted(hourly)
    return {
        "miner_id": miner.id,
        "as_of": iso(now),
        "live": current,
        "raw": {
            "t": [millis(r["ts"]) for r in raw],
            "online": [r["online"] for r in raw],
            "hashrate_ths": [r["hashrate_ths"] for r in raw],
            "power_w": [r["power_w"] for r in raw],
            "temp_max_c": [r["temp_max_c"] for r in raw],
        },
        "hourly": {
            "t": [millis(h) for h in hours],
            "hashrate_ths": [
                hourly[h]["rate"] / hourly[h]["samples"] if hourly[h]["samples"] else None
                for h in hours
            ],
            "power_w": [
                sum(hourly[h]["power"]) / len(hourly[h]["power"]) if hourly[h]["power"] else None
                for h in hours
            ],
            "temp_max_c": [hourly[h]["temp"] for h in hours],
            "uptime": [
                hourly[h]["online"] / hourly[h]["samples"] if hourly[h]["samples"] else None
                for h in hours
            ],
        },
    }


# --- views ----------------------------------------------------------------------------------------


def _site_param(request, strict: bool) -> int | None:
    try:
        return _int(request.GET.get("site_id"), "site_id")
    except InvalidInput:
        if strict:
            raise
        return None


def _page_common(request) -> dict:
    return {
        "alerts_url": alerts_url(request),
        "refresh_s": REFRESH_SECONDS,
    }


@view_config(
    route_name="hosting.monitor.fleet",
    renderer=T + "fleet.jinja2",
    request_method="GET",
    permission=P.MINER_READ,
)
def fleet_page(request):
    site_id = _site_param(request, strict=False)
    sites = request.dbsession.execute(sa.select(Site.id, Site.name).order_by(Site.name)).all()
    return {
        **_page_common(request),
        "fleet": fleet_overview(request, site_id=site_id),
        "sites": sites,
        "site_id": site_id,
    }


@view_config(
    route_name="hosting.api.monitor.fleet",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=P.MINER_READ,
)
def api_fleet(request):
    return fleet_overview(request, site_id=_site_param(request, strict=True))


@view_config(
    route_name="hosting.monitor.live",
    renderer=T + "live.jinja2",
    request_method="GET",
    permission=P.MINER_READ,
)
def live_table_page(request):
    query = parse_live_query(request.GET, strict=False)
    page = live_page(request, query)
    return {
        **_page_common(request),
        "query": query,
        "page": page,
        "choices": live_choices(request, query),
        "states": STATES,
        "page_sizes": PAGE_SIZES,
        "page_number": query.offset // query.limit + 1,
        "pages": max(1, -(-page["total"] // query.limit)),
    }


@view_config(
    route_name="hosting.api.monitor.live",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=P.MINER_READ,
)
def api_live(request):
    return live_page(request, parse_live_query(request.GET, strict=True))


@view_config(
    route_name="hosting.monitor.heatmap",
    renderer=T + "heatmap.jinja2",
    request_method="GET",
    permission=P.MINER_READ,
)
def heatmap_page(request):
    data = heatmap(request, _site_param(request, strict=False))
    return {**_page_common(request), "heatmap": data}


@view_config(
    route_name="hosting.api.monitor.heatmap",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=P.MINER_READ,
)
def api_heatmap(request):
    site_id = _site_param(request, strict=True)
    data = heatmap(request, site_id)
    if site_id is not None and data["site_id"] != site_id:
        from pyramid.httpexceptions import HTTPNotFound

        raise HTTPNotFound(request.localizer.translate(_("no such site")))
    return data


@view_config(
    route_name="hosting.api.monitor.miner",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=P.MINER_READ,
)
def api_miner_telemetry(context, request):
    return miner_telemetry(request, context.object)
