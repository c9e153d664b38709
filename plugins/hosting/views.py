"""Pages and JSON API of the farm: sites, zones, racks, miners, edge devices, discovery.

Item routes use ``object_factory`` so a foreign or missing object is the same 404; lists go
through the scoped session, so each account sees only its own part of the farm.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNoContent, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import exception_view_config, view_config

from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.models import Customer
from hashinsight_core.openapi import DEFAULT_LIMIT, MAX_LIMIT, paginate
from hashinsight_core.scoping import object_factory
from plugins.hosting import devices, importer, services
from plugins.hosting.models import (
    MINER_STATUSES,
    TRANSITIONS,
    DiscoveryCandidate,
    EdgeDevice,
    Miner,
    Rack,
    Site,
    Zone,
)
from plugins.hosting.permissions import HostingPermission as P

_ = TranslationStringFactory("hashinsight")
T = "plugins.hosting:templates/hosting/"
PAGE_SIZE = 50


def includeme(config):
    add = config.add_route
    add("hosting.site.list", "/hosting/sites/")
    add(
        "hosting.site.detail",
        "/hosting/sites/{site_id:\\d+}/",
        factory=object_factory(Site, "site_id"),
    )
    add("hosting.miner.list", "/hosting/miners/")
    add("hosting.miner.import", "/hosting/miners/import/")
    add(
        "hosting.miner.detail",
        "/hosting/miners/{miner_id:\\d+}/",
        factory=object_factory(Miner, "miner_id"),
    )
    add("hosting.device.list", "/hosting/devices/")
    for action in ("rotate", "revoke"):
        add(
            f"hosting.device.{action}",
            f"/hosting/devices/{{device_id:\\d+}}/{action}",
            factory=object_factory(EdgeDevice, "device_id"),
        )
    add("hosting.api.site.collection", "/api/v1/hosting/sites")
    add(
        "hosting.api.site.item",
        "/api/v1/hosting/sites/{site_id:\\d+}",
        factory=object_factory(Site, "site_id"),
    )
    add(
        "hosting.api.zone.collection",
        "/api/v1/hosting/sites/{site_id:\\d+}/zones",
        factory=object_factory(Site, "site_id"),
    )
    add(
        "hosting.api.zone.item",
        "/api/v1/hosting/zones/{zone_id:\\d+}",
        factory=object_factory(Zone, "zone_id"),
    )
    add(
        "hosting.api.rack.collection",
        "/api/v1/hosting/zones/{zone_id:\\d+}/racks",
        factory=object_factory(Zone, "zone_id"),
    )
    add("hosting.api.miner.collection", "/api/v1/hosting/miners")
    add("hosting.api.miner.batch", "/api/v1/hosting/miners/batch")
    add(
        "hosting.api.miner.item",
        "/api/v1/hosting/miners/{miner_id:\\d+}",
        factory=object_factory(Miner, "miner_id"),
    )
    add(
        "hosting.api.miner.history",
        "/api/v1/hosting/miners/{miner_id:\\d+}/history",
        factory=object_factory(Miner, "miner_id"),
    )
    add("hosting.api.device.collection", "/api/v1/hosting/devices")
    add(
        "hosting.api.device.create",
        "/api/v1/hosting/zones/{zone_id:\\d+}/devices",
        factory=object_factory(Zone, "zone_id"),
    )
    add(
        "hosting.api.device.rotate",
        "/api/v1/hosting/devices/{device_id:\\d+}/rotate",
        factory=object_factory(EdgeDevice, "device_id"),
    )
    add(
        "hosting.api.device.revoke",
        "/api/v1/hosting/devices/{device_id:\\d+}/revoke",
        factory=object_factory(EdgeDevice, "device_id"),
    )
    add("hosting.api.discovery.collection", "/api/v1/hosting/discovery")
    add(
        "hosting.api.discovery.adopt",
        "/api/v1/hosting/discovery/{candidate_id:\\d+}/adopt",
        factory=object_factory(DiscoveryCandidate, "candidate_id"),
    )
    add(
        "hosting.api.discovery.ignore",
        "/api/v1/hosting/discovery/{candidate_id:\\d+}/ignore",
        factory=object_factory(DiscoveryCandidate, "candidate_id"),
    )
    config.scan("plugins.hosting.views")


def api(route, method, permission, **extra):
    return view_config(
        route_name=route,
        request_method=method,
        renderer="json",
        openapi=True,
        permission=permission,
        **extra,
    )


def query_params(request) -> dict:
    return dict(request.openapi.parameters.query) if hasattr(request, "openapi") else {}


@exception_view_config(services.BatchInvalid, renderer="json")
def batch_invalid(exc, request):
    """A batch with bad rows: 422 with every row and column in ``details``."""
    request.response.status_int = 422
    message, rows = exc.translated(request)
    return {"error": {"code": exc.code, "message": message, "details": rows[:1000]}}


# --- sites ----------------------------------------------------------------------------------------

SITE_FORM = ("name", "timezone", "capacity_kw", "location", "tariff_per_kwh", "tariff_currency")


def _site_args(data: dict) -> dict:
    return {
        "name": data.get("name", ""),
        "timezone": data.get("timezone") or "UTC",
        "capacity_kw": data.get("capacity_kw") or 0,
        "location": data.get("location"),
        "tariff_per_kwh": data.get("tariff_per_kwh"),
        "tariff_currency": data.get("tariff_currency") or "USD",
    }


@view_config(
    route_name="hosting.site.list",
    renderer=T + "sites.jinja2",
    request_method="GET",
    permission=P.SITE_READ,
)
def site_list(request):
    return {"sites": services.list_sites(request.dbsession), "error": None, "form": {}}


@view_config(
    route_name="hosting.site.list",
    renderer=T + "sites.jinja2",
    request_method="POST",
    permission=P.SITE_WRITE,
)
def site_create_form(request):
    form = {k: request.POST.get(k, "") for k in SITE_FORM}
    try:
        services.create_site(request, **_site_args(form))
    except DomainError as error:
        request.response.status_int = error.status
        return {
            "sites": services.list_sites(request.dbsession),
            "error": error.message,
            "form": form,
        }
    return HTTPSeeOther(request.route_path("hosting.site.list"))


def _site_page(request, site, error=None, form=None):
    zones = list(request.dbsession.scalars(services.zone_query(site.id)))
    counts = dict(
        request.dbsession.execute(
            sa.select(Miner.zone_id, sa.func.count(Miner.id))
            .where(Miner.site_id == site.id)
            .group_by(Miner.zone_id)
        ).all()
    )
    return {"site": site, "zones": zones, "counts": counts, "error": error, "form": form or {}}


@view_config(
    route_name="hosting.site.detail",
    renderer=T + "site.jinja2",
    request_method="GET",
    permission=P.SITE_READ,
)
def site_detail(context, request):
    return _site_page(request, context.object)


@view_config(
    route_name="hosting.site.detail",
    renderer=T + "site.jinja2",
    request_method="POST",
    permission=P.SITE_WRITE,
)
def zone_create_form(context, request):
    form = {k: request.POST.get(k, "") for k in ("name", "capacity_kw")}
    try:
        services.create_zone(request, context.object, form["name"], form["capacity_kw"] or 0)
    except DomainError as error:
        request.response.status_int = error.status
        return _site_page(request, context.object, error.message, form)
    return HTTPSeeOther(request.route_path("hosting.site.detail", site_id=context.object.id))


@api("hosting.api.site.collection", "GET", P.SITE_READ)
def api_site_list(request):
    return paginate(request, services.site_query(), Site.as_dict)


@api("hosting.api.site.collection", "POST", P.SITE_WRITE)
def api_site_create(request):
    site = services.create_site(request, **_site_args(request.openapi.body))
    request.response.status_int = 201
    return site.as_dict()


@api("hosting.api.site.item", "GET", P.SITE_READ)
def api_site_get(context, request):
    return context.object.as_dict()


@api("hosting.api.site.item", "DELETE", P.SITE_WRITE)
def api_site_delete(context, request):
    services.delete_site(request, context.object)
    return HTTPNoContent()


# --- zones and racks ------------------------------------------------------------------------------


@api("hosting.api.zone.collection", "GET", P.SITE_READ)
def api_zone_list(context, request):
    return paginate(request, services.zone_query(context.object.id), Zone.as_dict)


@api("hosting.api.zone.collection", "POST", P.SITE_WRITE)
def api_zone_create(context, request):
    body = request.openapi.body
    zone = services.create_zone(request, context.object, body["name"], body.get("capacity_kw", 0))
    request.response.status_int = 201
    return zone.as_dict()


@api("hosting.api.zone.item", "GET", P.SITE_READ)
def api_zone_get(context, request):
    return context.object.as_dict()


@api("hosting.api.zone.item", "DELETE", P.SITE_WRITE)
def api_zone_delete(context, request):
    services.delete_zone(request, context.object)
    return HTTPNoContent()


@api("hosting.api.rack.collection", "GET", P.SITE_READ)
def api_rack_list(context, request):
    query = sa.select(Rack).where(Rack.zone_id == context.object.id).order_by(Rack.name)
    return paginate(request, query, Rack.as_dict)


@api("hosting.api.rack.collection", "POST", P.SITE_WRITE)
def api_rack_create(context, request):
    body = request.openapi.body
    rack = services.create_rack(
        request, context.object, body["name"], body.get("rows", 1), body.get("slots", 1)
    )
    request.response.status_int = 201
    return rack.as_dict()


# --- miners ---------------------------------------------------------------------------------------

FILTERS = ("site_id", "zone_id", "customer_id", "rack_id", "status", "model", "q")


def _page_filters(request) -> dict:
    filters: dict = {}
    for key in FILTERS:
        value = (request.GET.get(key) or "").strip()
        if not value:
            continue
        if key.endswith("_id"):
            if not value.isdigit() or len(value) > 9:
                continue
            filters[key] = int(value)
        elif key == "status" and value not in MINER_STATUSES:
            continue
        else:
            filters[key] = value[:100]
    return filters


@view_config(
    route_name="hosting.miner.list",
    renderer=T + "miners.jinja2",
    request_method="GET",
    permission=P.MINER_READ,
)
def miner_list(request):
    filters = _page_filters(request)
    try:
        page = max(1, min(int(request.GET.get("page", 1)), 10**6))
    except ValueError:
        page = 1
    miners, total = services.page_of_miners(
        request.dbsession, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    db = request.dbsession
    sites = list(db.scalars(services.site_query()))
    zones = list(db.scalars(services.zone_query(filters.get("site_id"))))
    customers = []
    if request.has_permission(P.MINER_WRITE):
        customers = list(db.scalars(sa.select(Customer).order_by(Customer.name).limit(500)))
    names = {
        c.id: c.name
        for c in db.scalars(
            sa.select(Customer).where(
                Customer.id.in_({m.customer_id for m in miners if m.customer_id})
            )
        )
    }
    return {
        "miners": miners,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters,
        "sites": sites,
        "zones": zones,
        "customers": customers,
        "customer_names": names,
        "statuses": MINER_STATUSES,
        "counts": services.status_counts(db, filters),
    }


def _miner_page(request, miner, error=None):
    db = request.dbsession
    history = services.miner_history(db, miner)
    zone = db.get(Zone, miner.zone_id)
    site = db.get(Site, miner.site_id)
    rack = db.get(Rack, miner.rack_id) if miner.rack_id else None
    customer = db.get(Customer, miner.customer_id) if miner.customer_id else None
    return {
        "miner": miner,
        "history": history,
        "zone": zone,
        "site": site,
        "rack": rack,
        "customer": customer,
        "next_statuses": sorted(TRANSITIONS[miner.status]),
        "error": error,
    }


@view_config(
    route_name="hosting.miner.detail",
    renderer=T + "miner.jinja2",
    request_method="GET",
    permission=P.MINER_READ,
)
def miner_detail(context, request):
    return _miner_page(request, context.object)


@view_config(
    route_name="hosting.miner.detail",
    renderer=T + "miner.jinja2",
    request_method="POST",
    permission=P.MINER_WRITE,
)
def miner_status_form(context, request):
    miner = context.object
    before = miner.status
    try:
        services.change_status(
            request, miner, request.POST.get("status", ""), request.POST.get("note", "")
        )
    except DomainError as error:
        request.response.status_int = error.status
        return _miner_page(request, miner, error.message)
    request.audit(
        "hosting:miner:status",
        subject=("miner", miner.id),
        payload={"from": before, "to": miner.status},
    )
    return HTTPSeeOther(request.route_path("hosting.miner.detail", miner_id=miner.id))


@view_config(
    route_name="hosting.miner.import",
    renderer=T + "import.jinja2",
    request_method="GET",
    permission=P.MINER_IMPORT,
)
def import_form(request):
    return {"errors": [], "message": None, "created": None, "columns": services.MINER_COLUMNS}


@view_config(
    route_name="hosting.miner.import",
    renderer=T + "import.jinja2",
    request_method="POST",
    permission=P.MINER_IMPORT,
)
def import_upload(request):
    upload = request.POST.get("file")
    result = {"errors": [], "message": None, "created": None, "columns": services.MINER_COLUMNS}
    try:
        if upload is None or not hasattr(upload, "file"):
            raise InvalidInput(_("choose a CSV or Excel file"), "file")
        data = upload.file.read(importer.MAX_BYTES + 1)
        ids = importer.create_from_file(request, upload.filename, data)
    except services.BatchInvalid as error:
        request.response.status_int = 422
        message, rows = error.translated(request)
        result.update(errors=rows, message=message)
        return result
    except DomainError as error:
        request.response.status_int = error.status
        result.update(message=error.message)
        return result
    request.audit(
        "hosting:miner:batch_create",
        subject=("miner_batch", f"{ids[0]}-{ids[-1]}"),
        payload={"count": len(ids), "source": "file", "filename": (upload.filename or "")[:200]},
    )
    result["created"] = len(ids)
    return result


@api("hosting.api.miner.collection", "GET", P.MINER_READ)
def api_miner_list(request):
    params = query_params(request)
    limit = min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
    offset = int(params.get("offset", 0))
    filters = {k: params.get(k) for k in FILTERS if params.get(k) not in (None, "")}
    miners, total = services.page_of_miners(request.dbsession, filters, limit, offset)
    return {
        "items": [m.as_dict() for m in miners],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@api("hosting.api.miner.collection", "POST", P.MINER_WRITE)
def api_miner_create(request):
    ids = services.create_miners(request, [dict(request.openapi.body)])
    miner = request.dbsession.get(Miner, ids[0])
    request.audit(
        "hosting:miner:create", subject=("miner", miner.id), payload={"serial": miner.serial}
    )
    request.response.status_int = 201
    return miner.as_dict()


@api("hosting.api.miner.batch", "POST", P.MINER_IMPORT)
def api_miner_batch(request):
    rows = [dict(r) for r in request.openapi.body["miners"]]
    ids = services.create_miners(request, rows)
    request.audit(
        "hosting:miner:batch_create",
        subject=("miner_batch", f"{ids[0]}-{ids[-1]}"),
        payload={"count": len(ids), "source": "api"},
    )
    request.response.status_int = 201
    return {"created": len(ids), "ids": ids}


@api("hosting.api.miner.item", "GET", P.MINER_READ)
def api_miner_get(context, request):
    return context.object.as_dict()


@api("hosting.api.miner.item", "PATCH", P.MINER_WRITE)
def api_miner_update(context, request):
    miner = context.object
    changes = dict(request.openapi.body)
    changed = services.update_miner(request, miner, changes)
    if changed:
        request.audit(
            "hosting:miner:update",
            subject=("miner", miner.id),
            payload={"changed": sorted(changed)},
        )
    return miner.as_dict()


@api("hosting.api.miner.history", "GET", P.MINER_READ)
def api_miner_history(context, request):
    return {
        "items": [e.as_dict() for e in services.miner_history(request.dbsession, context.object)]
    }


# --- edge devices ---------------------------------------------------------------------------------


def _device_page(request, error=None, secret=None, device=None):
    db = request.dbsession
    rows = list(
        db.scalars(
            sa.select(EdgeDevice).order_by(EdgeDevice.site_id, EdgeDevice.zone_id, EdgeDevice.name)
        )
    )
    zones = db.execute(
        sa.select(Zone, Site.name)
        .join(Site, Site.id == Zone.site_id)
        .order_by(Site.name, Zone.name)
    ).all()
    return {"devices": rows, "zones": zones, "error": error, "secret": secret, "new_device": device}


@view_config(
    route_name="hosting.device.list",
    renderer=T + "devices.jinja2",
    request_method="GET",
    permission=P.DEVICE_READ,
)
def device_list(request):
    return _device_page(request)


@view_config(
    route_name="hosting.device.list",
    renderer=T + "devices.jinja2",
    request_method="POST",
    permission=P.DEVICE_WRITE,
)
def device_create_form(request):
    try:
        zone_id = int(request.POST.get("zone_id", "0"))
        zone = request.dbsession.get(Zone, zone_id) if 0 < zone_id < 2**31 else None
    except ValueError:
        zone = None
    try:
        if zone is None:
            raise InvalidInput(_("choose a zone"), "zone_id")
        device, secret = devices.create_device(request, zone, request.POST.get("name", ""))
    except DomainError as error:
        request.response.status_int = error.status
        return _device_page(request, error.message)
    # The token is shown on this answer only (never stored in clear, never redirected to).
    request.response.headers["Cache-Control"] = "no-store"
    return _device_page(request, secret=secret, device=device)


@view_config(
    route_name="hosting.device.revoke",
    renderer=T + "devices.jinja2",
    request_method="POST",
    permission=P.DEVICE_WRITE,
)
@view_config(
    route_name="hosting.device.rotate",
    renderer=T + "devices.jinja2",
    request_method="POST",
    permission=P.DEVICE_WRITE,
)
def device_action_form(context, request):
    device = context.object
    try:
        if request.matched_route.name == "hosting.device.rotate":
            secret = devices.rotate(request, device)
            request.response.headers["Cache-Control"] = "no-store"
            return _device_page(request, secret=secret, device=device)
        devices.revoke(request, device)
    except DomainError as error:
        request.response.status_int = error.status
        return _device_page(request, error.message)
    return HTTPSeeOther(request.route_path("hosting.device.list"))


@api("hosting.api.device.collection", "GET", P.DEVICE_READ)
def api_device_list(request):
    query = sa.select(EdgeDevice).order_by(EdgeDevice.id)
    return paginate(request, query, EdgeDevice.as_dict)


@api("hosting.api.device.create", "POST", P.DEVICE_WRITE)
def api_device_create(context, request):
    device, secret = devices.create_device(request, context.object, request.openapi.body["name"])
    request.response.status_int = 201
    request.response.headers["Cache-Control"] = "no-store"
    return {**device.as_dict(), "token": secret}


@api("hosting.api.device.rotate", "POST", P.DEVICE_WRITE)
def api_device_rotate(context, request):
    secret = devices.rotate(request, context.object)
    request.response.headers["Cache-Control"] = "no-store"
    return {**context.object.as_dict(), "token": secret}


@api("hosting.api.device.revoke", "POST", P.DEVICE_WRITE)
def api_device_revoke(context, request):
    devices.revoke(request, context.object)
    return context.object.as_dict()


# --- discovery ------------------------------------------------------------------------------------


@api("hosting.api.discovery.collection", "GET", P.DEVICE_READ)
def api_discovery_list(request):
    params = query_params(request)
    query = sa.select(DiscoveryCandidate).order_by(DiscoveryCandidate.id)
    status = params.get("status") or "new"
    if status != "all":
        query = query.where(DiscoveryCandidate.status == status)
    if params.get("zone_id"):
        query = query.where(DiscoveryCandidate.zone_id == params["zone_id"])
    return paginate(request, query, DiscoveryCandidate.as_dict)


@api("hosting.api.discovery.adopt", "POST", P.DISCOVERY_ADOPT)
def api_discovery_adopt(context, request):
    """Make a miner of the candidate (in its zone, or another zone the operator names)."""
    candidate = context.object
    if candidate.status == "adopted":
        raise InvalidInput(_("the candidate was adopted already"), "status")
    body = dict(request.openapi.body or {})
    row = {
        "serial": body.pop("serial", None) or candidate.serial or None,
        "mac": body.pop("mac", None) or candidate.mac or None,
        "model": body.pop("model", None) or candidate.model_name or None,
        "zone_id": body.pop("zone_id", None) or candidate.zone_id,
        **body,
    }
    ids = services.create_miners(request, [row])
    miner = request.dbsession.get(Miner, ids[0])
    if miner.zone_id == candidate.zone_id and not candidate.miner_key.startswith("id:"):
        miner.miner_key = candidate.miner_key
    candidate.status, candidate.miner_id = "adopted", miner.id
    request.dbsession.flush()
    request.audit(
        "hosting:discovery:adopt", subject=("miner", miner.id), payload={"candidate": candidate.id}
    )
    request.response.status_int = 201
    return miner.as_dict()


@api("hosting.api.discovery.ignore", "POST", P.DISCOVERY_ADOPT)
def api_discovery_ignore(context, request):
    context.object.status = "ignored"
    request.audit("hosting:discovery:ignore", subject=("discovery_candidate", context.object.id))
    return context.object.as_dict()
