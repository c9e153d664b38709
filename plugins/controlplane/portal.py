"""Portal Lite API (``/api/v1/portal/*``): a customer's miners, zones, approvals and commands,
for scripts and dashboards of hosting customers, with an API token (``Authorization: Bearer``)
or a browser session.

Every query goes through the data scope, so a customer's token reaches only that customer's
miners and commands; a foreign id is the same 404 as a missing one. Lists page by
``limit``/``offset`` and answer ``{"items", "total", "limit", "offset"}``; errors are the
usual ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.openapi import paginate
from plugins.controlplane import services
from plugins.controlplane.models import Command
from plugins.controlplane.permissions import ControlplanePermission
from plugins.controlplane.states import CommandStatus
from plugins.hosting.models import Miner, Zone
from plugins.hosting.permissions import HostingPermission
from plugins.hosting.telemetry.models import TelemetryFiveMin, TelemetryLive

_ = TranslationStringFactory("hashinsight")

MAX_HISTORY_HOURS = 7 * 24


def _iso(value):
    return value.isoformat() + "Z" if value is not None else None


def live_dict(row: TelemetryLive | None) -> dict | None:
    if row is None:
        return None
    return {
        "ts": _iso(row.ts),
        "online": row.online,
        "hashrate_ths": row.hashrate_ths,
        "nominal_ths": row.nominal_ths,
        "power_w": row.power_w,
        "temp_max_c": row.temp_max_c,
        "fans_failed": row.fans_failed,
        "uptime_s": row.uptime_s,
        "pool_url": row.pool_url,
        "error_class": row.error_class,
    }


def miner_dict(miner: Miner, live: TelemetryLive | None) -> dict:
    return {
        "id": miner.id,
        "serial": miner.serial,
        "model_name": miner.model_name,
        "nominal_ths": miner.nominal_ths,
        "site_id": miner.site_id,
        "zone_id": miner.zone_id,
        "status": miner.status,
        "pool_url": miner.pool_url,
        "pool_worker": miner.pool_worker,
        "live": live_dict(live),
    }


def _live_for(dbsession, miner_ids) -> dict[int, TelemetryLive]:
    if not miner_ids:
        return {}
    rows = dbsession.scalars(sa.select(TelemetryLive).where(TelemetryLive.miner_id.in_(miner_ids)))
    return {row.miner_id: row for row in rows}


@view_config(
    route_name="controlplane.portal.miners",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=HostingPermission.MINER_READ,
)
def miners(request):
    query_params = request.openapi.parameters.query
    query = sa.select(Miner).order_by(Miner.id)
    for name in ("status", "zone_id", "site_id"):
        if query_params.get(name) is not None:
            query = query.where(getattr(Miner, name) == query_params[name])
    if query_params.get("model"):
        query = query.where(Miner.model_name == query_params["model"])
    page = paginate(request, query, lambda m: m)
    live = _live_for(request.dbsession, [m.id for m in page["items"]])
    page["items"] = [miner_dict(m, live.get(m.id)) for m in page["items"]]
    return page


@view_config(
    route_name="controlplane.portal.miner",
    request_method="GET",
    renderer="json",
    permission=HostingPermission.MINER_READ,
)
def miner(request):
    found = request.context.object
    return miner_dict(found, _live_for(request.dbsession, [found.id]).get(found.id))


@view_config(
    route_name="controlplane.portal.miner_telemetry",
    request_method="GET",
    renderer="json",
    permission=HostingPermission.MINER_READ,
)
def miner_telemetry(request):
    found = request.context.object
    try:
        hours = int(request.GET.get("hours", 24))
    except ValueError:
        raise InvalidInput(_("hours must be a whole number"), "hours") from None
    if not 1 <= hours <= MAX_HISTORY_HOURS:
        raise InvalidInput(
            _("hours must be between 1 and ${most}", mapping={"most": MAX_HISTORY_HOURS}), "hours"
        )
    since = utcnow() - dt.timedelta(hours=hours)
    rows = request.dbsession.scalars(
        sa.select(TelemetryFiveMin)
        .where(TelemetryFiveMin.miner_id == found.id, TelemetryFiveMin.bucket >= since)
        .order_by(TelemetryFiveMin.bucket)
    )
    return {
        "miner_id": found.id,
        "hours": hours,
        "points": [
            {
                "bucket": _iso(r.bucket),
                "hashrate_avg_ths": r.hashrate_avg_ths,
                "power_avg_w": r.power_avg_w,
                "temp_max_c": r.temp_max_c,
                "online_share": (r.online_samples / r.samples) if r.samples else None,
            }
            for r in rows
        ],
    }


@view_config(
    route_name="controlplane.portal.zones",
    request_method="GET",
    renderer="json",
    permission=HostingPermission.MINER_READ,
)
def zones(request):
    """The zones holding the account's miners, with how many are online and hashing."""
    db = request.dbsession
    counts = {
        zone_id: (total, online, hashrate)
        for zone_id, total, online, hashrate in db.execute(
            sa.select(
                Miner.zone_id,
                sa.func.count(Miner.id),
                sa.func.count(TelemetryLive.miner_id).filter(TelemetryLive.online.is_(True)),
                sa.func.coalesce(sa.func.sum(TelemetryLive.hashrate_ths), 0.0),
            )
            .join(TelemetryLive, TelemetryLive.miner_id == Miner.id, isouter=True)
            .group_by(Miner.zone_id)
        )
    }
    rows = db.scalars(sa.select(Zone).where(Zone.id.in_(list(counts) or [-1])).order_by(Zone.id))
    return {
        "items": [
            {
                "id": zone.id,
                "site_id": zone.site_id,
                "name": zone.name,
                "miners": counts[zone.id][0],
                "online": counts[zone.id][1],
                "hashrate_ths": round(float(counts[zone.id][2]), 3),
            }
            for zone in rows
        ]
    }


@view_config(
    route_name="controlplane.portal.approvals",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def approvals(request):
    """Commands waiting for approval that this account's approval would count for."""
    user = request.user
    waiting = request.dbsession.scalars(
        services.command_query(status=CommandStatus.PENDING_APPROVAL.value)
    ).all()
    mine = []
    for command in waiting:
        decided = services.approvals_of(request.dbsession, command.id)
        if command.requested_by_id == user.id or any(a.user_id == user.id for a in decided):
            continue
        policy = services.policy_for(request.dbsession, command.site_id)
        if services.slot_for(user, command, policy, decided) is not None:
            mine.append(command)
    params = request.openapi.parameters.query
    limit, offset = int(params.get("limit", 50)), int(params.get("offset", 0))
    chosen = mine[offset : offset + limit]
    counts = services.target_counts(request.dbsession, [c.id for c in chosen])
    return {
        "items": [c.as_dict(counts[c.id]) for c in chosen],
        "total": len(mine),
        "limit": limit,
        "offset": offset,
    }


def _decide(request, decision):
    command = request.context.object
    body = request.json_body if request.body else {}
    reason = body.get("reason", "") if isinstance(body, dict) else ""
    if not isinstance(reason, str):
        raise InvalidInput(_("reason must be text"), "reason")
    try:
        services.decide(request, command.id, decision, reason)
    except services.KeptConflict as error:
        request.response.status_int = error.status
        message = request.localizer.translate(error.message)
        return {"error": {"code": error.code, "message": message}}

    request.dbsession.refresh(command)
    return services.command_detail(request, command)


@view_config(
    route_name="controlplane.portal.approve",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def approve(request):
    return _decide(request, "approve")


@view_config(
    route_name="controlplane.portal.reject",
    request_method="POST",
    renderer="json",
    permission=ControlplanePermission.COMMAND_APPROVE,
)
def reject(request):
    return _decide(request, "reject")


@view_config(
    route_name="controlplane.portal.commands",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=ControlplanePermission.COMMAND_READ,
)
def commands(request):
    query = services.command_query(status=request.openapi.parameters.query.get("status"))
    page = paginate(request, query, Command.as_dict)
    counts = services.target_counts(request.dbsession, [c["id"] for c in page["items"]])
    for item in page["items"]:
        item["miners"] = counts[item["id"]]
    return page


@view_config(
    route_name="controlplane.portal.commands",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=ControlplanePermission.COMMAND_REQUEST,
)
def command_create(request):
    body = request.openapi.body
    command = services.create_command(
        request,
        body["site_id"],
        body["command_type"],
        body.get("params") or {},
        body.get("reason", ""),
        {"miner_ids": body["miner_ids"]},
    )
    request.response.status_int = 201
    return services.command_detail(request, command)


@view_config(
    route_name="controlplane.portal.command",
    request_method="GET",
    renderer="json",
    permission=ControlplanePermission.COMMAND_READ,
)
def command(request):
    return services.command_detail(request, request.context.object)


def includeme(config):
    from hashinsight_core.scoping import object_factory

    miner = object_factory(Miner, "miner_id")
    command = object_factory(Command, "command_id")
    add = config.add_route
    add("controlplane.portal.miners", "/api/v1/portal/miners")
    add("controlplane.portal.miner", "/api/v1/portal/miners/{miner_id}", factory=miner)
    add(
        "controlplane.portal.miner_telemetry",
        "/api/v1/portal/miners/{miner_id}/telemetry",
        factory=miner,
    )
    add("controlplane.portal.zones", "/api/v1/portal/zones")
    add("controlplane.portal.approvals", "/api/v1/portal/approvals")
    add(
        "controlplane.portal.approve",
        "/api/v1/portal/approvals/{command_id}/approve",
        factory=command,
    )
    add(
        "controlplane.portal.reject",
        "/api/v1/portal/approvals/{command_id}/reject",
        factory=command,
    )
    add("controlplane.portal.commands", "/api/v1/portal/commands")
    add("controlplane.portal.command", "/api/v1/portal/commands/{command_id}", factory=command)
    config.scan("plugins.controlplane.portal")
