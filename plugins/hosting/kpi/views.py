"""KPI pages and JSON API: the dashboard (table, trend charts, health), the drill-down to
miners, CSV/Excel export, and the excused events (list, form, API).

Every figure comes from ``report.build`` / ``report.build_miners`` on the request's scoped
session. Bad query parameters are a 422 naming the parameter (the page shows the message and
the default report instead).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNoContent, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.view import view_config

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.models import Customer
from hashinsight_core.scoping import object_factory
from plugins.hosting.kpi import events, export, report
from plugins.hosting.kpi.engine import GROUPS, HEALTH_STATES
from plugins.hosting.kpi.models import EVENT_KINDS, ExcusedEvent
from plugins.hosting.kpi.period import PERIOD_CHOICES
from plugins.hosting.kpi.permissions import KpiPermission as P
from plugins.hosting.models import Site, Zone
from plugins.hosting.telemetry.config import config_from_request

_ = TranslationStringFactory("hashinsight")
T = "plugins.hosting:templates/hosting/"
PAGE_SIZE = 50
MAX_LIMIT = 500

KIND_LABELS = {
    "curtailment": _("Curtailment"),
    "maintenance": _("Scheduled maintenance"),
    "customer_pause": _("Customer pause"),
    "utility_outage": _("Utility outage"),
}
GROUP_LABELS = {
    "site": _("Site"),
    "zone": _("Zone"),
    "customer": _("Customer"),
    "model": _("Model"),
}
PERIOD_LABELS = {
    "24h": _("Last 24 hours"),
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "custom": _("Custom dates"),
}
HEALTH_LABELS = {
    "healthy": _("Healthy"),
    "degraded": _("Degraded"),
    "offline": _("Offline"),
    "in_repair": _("In repair"),
}


def client_strings() -> list:
    """Words the KPI script shows in its charts."""
    return [
        _("Reachable uptime (%)"),
        _("Hashing uptime (%)"),
        _("Reachable, excluding excused (%)"),
        _("Hashing, excluding excused (%)"),
        _("Realized hashrate (TH/s)"),
        _("Nominal (TH/s)"),
        _("Energy (kWh)"),
    ]


def includeme(config):
    add = config.add_route
    add("hosting.kpi.dashboard", "/hosting/kpi/")
    add("hosting.kpi.miners", "/hosting/kpi/miners/")
    add("hosting.kpi.export", "/hosting/kpi/export.{fmt:(csv|xlsx)}")
    add("hosting.kpi.events", "/hosting/kpi/events/")
    add("hosting.kpi.event_new", "/hosting/kpi/events/new")
    add(
        "hosting.kpi.event_edit",
        "/hosting/kpi/events/{event_id:\\d+}/",
        factory=object_factory(ExcusedEvent, "event_id"),
    )
    add(
        "hosting.kpi.event_delete",
        "/hosting/kpi/events/{event_id:\\d+}/delete",
        factory=object_factory(ExcusedEvent, "event_id"),
    )
    add("hosting.api.kpi", "/api/v1/hosting/kpi")
    add("hosting.api.kpi.miners", "/api/v1/hosting/kpi/miners")
    add("hosting.api.excused.collection", "/api/v1/hosting/excused-events")
    add(
        "hosting.api.excused.item",
        "/api/v1/hosting/excused-events/{event_id:\\d+}",
        factory=object_factory(ExcusedEvent, "event_id"),
    )
    config.add_client_strings(client_strings())
    config.scan("plugins.hosting.kpi.views")


def api(route, method, permission):
    return view_config(
        route_name=route, request_method=method, renderer="json", permission=permission
    )


def _report(request, params, *, drill: bool = False):
    now = utcnow()
    query = report.parse_query(params, now, drill=drill)
    config = config_from_request(request)
    db = request.dbsession
    if drill:
        return query, report.build_miners(db, query, now=now, config=config)
    return query, report.build(db, query, now=now, config=config, scope=request.data_scope)


def _choices(request) -> dict:
    db = request.dbsession
    return {
        "sites": list(db.execute(sa.select(Site.id, Site.name).order_by(Site.name))),
        "groups": GROUPS,
        "group_labels": GROUP_LABELS,
        "periods": PERIOD_CHOICES,
        "period_labels": PERIOD_LABELS,
        "health_states": HEALTH_STATES,
        "health_labels": HEALTH_LABELS,
    }


def _echo(params) -> dict:
    """The filters as typed, for the form (only the known keys, as text)."""
    return {
        k: (params.get(k) or "")
        for k in ("period", "from", "to", "group_by", "site_id", "group", "key")
    }


def _export_query(params) -> dict:
    return {k: v for k, v in _echo(params).items() if v and k not in ("group", "key")}


# --- pages ------------------------------------------------------------------------------------


@view_config(
    route_name="hosting.kpi.dashboard",
    renderer=T + "kpi.jinja2",
    request_method="GET",
    permission=P.KPI_READ,
)
def dashboard(request):
    error = None
    try:
        _query, data = _report(request, request.GET)
        form = _echo(request.GET)
    except DomainError as problem:
        request.response.status_int = problem.status
        error = request.localizer.translate(_(problem.message))
        _query, data = _report(request, {})
        form = _echo({})
    return {
        "kpi": data,
        "form": form,
        "error": error,
        "export_query": _export_query(form),
        "can_record": bool(request.has_permission(P.EXCUSED_PAUSE)),
        **_choices(request),
    }


@view_config(
    route_name="hosting.kpi.miners",
    renderer=T + "kpi_miners.jinja2",
    request_method="GET",
    permission=P.KPI_READ,
)
def drill_down(request):
    try:
        _query, data = _report(request, request.GET, drill=True)
    except DomainError as problem:
        request.response.status_int = problem.status
        return {
            "drill": None,
            "error": request.localizer.translate(_(problem.message)),
            "back_query": _export_query(request.GET),
            **_choices(request),
        }
    return {
        "drill": data,
        "error": None,
        "back_query": _export_query(request.GET),
        **_choices(request),
    }


@view_config(route_name="hosting.kpi.export", request_method="GET", permission=P.KPI_READ)
def download(request):
    _query, data = _report(request, request.GET)
    table = export.table(data)
    stamp = data["period"]["from"][:10] + "_" + data["period"]["to"][:10]
    if request.matchdict["fmt"] == "csv":
        body = export.to_csv(table, data["period"])
        kind = "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(table, data["period"])
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body=body, content_type=kind.split(";")[0])
    if "charset" in kind:
        response.charset = "utf-8"
    name = f"kpi_{data['group_by']}_{stamp}.{request.matchdict['fmt']}"
    response.content_disposition = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- pages: excused events --------------------------------------------------------------------


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), 10**6)) if raw.isdigit() and len(raw) < 8 else 1


def _names(db, items) -> dict:
    sites = {e.site_id for e in items}
    zones = {e.zone_id for e in items if e.zone_id}
    customers = {e.customer_id for e in items if e.customer_id}

    def named(model, ids):
        return dict(db.execute(sa.select(model.id, model.name).where(model.id.in_(ids))).all())

    return {
        "site_names": named(Site, sites),
        "zone_names": named(Zone, zones),
        "customer_names": named(Customer, customers),
    }


@view_config(
    route_name="hosting.kpi.events",
    renderer=T + "kpi_events.jinja2",
    request_method="GET",
    permission=P.KPI_READ,
)
def event_list(request):
    db = request.dbsession
    page = _page_number(request)
    items, total = events.page(db, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return {
        "events": items,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "kind_labels": KIND_LABELS,
        "can_record": bool(request.has_permission(P.EXCUSED_PAUSE)),
        "can_change": {e.id: events.may_change(request, e) for e in items}
        if request.has_permission(P.EXCUSED_PAUSE)
        else {},
        **_names(db, items),
    }


def _form_context(request, event=None, form=None, error=None) -> dict:
    db = request.dbsession
    staff = bool(request.has_permission(P.EXCUSED_WRITE))
    if form is None:
        default_kind = "maintenance" if staff else "customer_pause"
        form = event.as_dict() if event is not None else {"kind": default_kind}
    return {
        "event": event,
        "form": form,
        "error": error,
        "staff": staff,
        "kinds": EVENT_KINDS if staff else ("customer_pause",),
        "kind_labels": KIND_LABELS,
        "sites": list(db.execute(sa.select(Site.id, Site.name).order_by(Site.name))),
        "zones": list(
            db.execute(
                sa.select(Zone.id, Zone.name, Site.name)
                .join(Site, Site.id == Zone.site_id)
                .order_by(Site.name, Zone.name)
            )
        ),
        "customers": list(
            db.execute(sa.select(Customer.id, Customer.name).order_by(Customer.name).limit(1000))
        )
        if staff
        else [],
    }


def _form_data(post) -> dict:
    data = {k: post.get(k, "") for k in ("kind", "site_id", "zone_id", "customer_id", "note")}
    for name in ("starts_at", "ends_at"):
        value = post.get(name, "").strip()
        # <input type="datetime-local"> sends "2026-12-01T08:00" (taken as UTC, as labelled).
        data[name] = value
    data["miner_ids"] = post.get("miner_ids", "")
    if "customer_id" not in post:
        data.pop("customer_id")
    return data


def _form_echo(data: dict) -> dict:
    echo = dict(data)
    for name in ("site_id", "zone_id", "customer_id"):
        value = str(echo.get(name) or "")
        echo[name] = int(value) if value.isdigit() else None
    return echo


@view_config(
    route_name="hosting.kpi.event_new",
    renderer=T + "kpi_event_form.jinja2",
    request_method="GET",
    permission=P.EXCUSED_PAUSE,
)
def event_new(request):
    return _form_context(request)


@view_config(
    route_name="hosting.kpi.event_new",
    renderer=T + "kpi_event_form.jinja2",
    request_method="POST",
    permission=P.EXCUSED_PAUSE,
)
def event_create_form(request):
    data = _form_data(request.POST)
    try:
        events.create(request, data)
    except DomainError as error:
        request.response.status_int = error.status
        return _form_context(request, form=_form_echo(data), error=error.message)
    return HTTPSeeOther(request.route_path("hosting.kpi.events"))


@view_config(
    route_name="hosting.kpi.event_edit",
    renderer=T + "kpi_event_form.jinja2",
    request_method="GET",
    permission=P.KPI_READ,
)
def event_edit(context, request):
    return _form_context(request, event=context.object)


@view_config(
    route_name="hosting.kpi.event_edit",
    renderer=T + "kpi_event_form.jinja2",
    request_method="POST",
    permission=P.EXCUSED_PAUSE,
)
def event_update_form(context, request):
    data = _form_data(request.POST)
    try:
        events.update(request, context.object, data)
    except DomainError as error:
        request.response.status_int = error.status
        return _form_context(
            request, event=context.object, form=_form_echo(data), error=error.message
        )
    return HTTPSeeOther(request.route_path("hosting.kpi.events"))


@view_config(
    route_name="hosting.kpi.event_delete", request_method="POST", permission=P.EXCUSED_PAUSE
)
def event_delete_form(context, request):
    events.delete(request, context.object)
    return HTTPSeeOther(request.route_path("hosting.kpi.events"))


# --- API --------------------------------------------------------------------------------------


def json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(_("the body is not valid JSON"), "body") from None
    if not isinstance(body, dict):
        raise InvalidInput(_("the body must be a JSON object"), "body")
    return body


def _limit_offset(params) -> tuple[int, int]:
    try:
        limit = int(params.get("limit", PAGE_SIZE))
        offset = int(params.get("offset", 0))
    except (TypeError, ValueError):
        raise InvalidInput(_("limit and offset must be whole numbers"), "limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(_("limit must be 1 to ${high}", mapping={"high": MAX_LIMIT}), "limit")
    if not 0 <= offset < 2**31:
        raise InvalidInput(_("offset must be 0 or more"), "offset")
    return limit, offset


@api("hosting.api.kpi", "GET", P.KPI_READ)
def api_kpi(request):
    return _report(request, request.GET)[1]


@api("hosting.api.kpi.miners", "GET", P.KPI_READ)
def api_kpi_miners(request):
    return _report(request, request.GET, drill=True)[1]


@api("hosting.api.excused.collection", "GET", P.KPI_READ)
def api_event_list(request):
    limit, offset = _limit_offset(request.GET)
    site_id = report._int_param(request.GET, "site_id")
    kind = request.GET.get("kind") or None
    if kind is not None and kind not in EVENT_KINDS:
        raise InvalidInput(
            _("kind must be one of ${choices}", mapping={"choices": ", ".join(EVENT_KINDS)}), "kind"
        )
    items, total = events.page(
        request.dbsession, site_id=site_id, kind=kind, limit=limit, offset=offset
    )
    return {"items": [e.as_dict() for e in items], "total": total, "limit": limit, "offset": offset}


@api("hosting.api.excused.collection", "POST", P.EXCUSED_PAUSE)
def api_event_create(request):
    event = events.create(request, json_body(request))
    request.response.status_int = 201
    return event.as_dict()


@api("hosting.api.excused.item", "GET", P.KPI_READ)
def api_event_get(context, request):
    return context.object.as_dict()


@api("hosting.api.excused.item", "PATCH", P.EXCUSED_PAUSE)
def api_event_update(context, request):
    return events.update(request, context.object, json_body(request)).as_dict()


@api("hosting.api.excused.item", "DELETE", P.EXCUSED_PAUSE)
def api_event_delete(context, request):
    events.delete(request, context.object)
    return HTTPNoContent()
