"""Customer portal pages: home, miners, preferences (and how to reach the Portal API).

Mobile first: every list is cards on a phone and a table from the ``md`` breakpoint. Numbers
come from the scoped session (see ``services``); miner detail, alerts and tickets are the
existing pages, linked from here.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.interfaces import IRoutesMapper
from pyramid.view import view_config

from hashinsight_core.models import Customer
from plugins.hosting.alerts import services as alert_services
from plugins.hosting.monitor import LiveQuery, live_page, parse_live_query
from plugins.hosting.portal import services
from plugins.hosting.portal.permissions import PortalPermission as P

_ = TranslationStringFactory("hashinsight")
T = "plugins.hosting:templates/hosting/"
PAGE_SIZE = 25


def includeme(config):
    config.add_route("hosting.portal.home", "/portal/")
    config.add_route("hosting.portal.miners", "/portal/miners/")
    config.add_route("hosting.portal.settings", "/portal/settings/")
    config.scan("plugins.hosting.portal.views")


def route_exists(request, name: str) -> bool:
    """Links to pages of other parts (tickets) appear only when that part serves them."""
    mapper = request.registry.queryUtility(IRoutesMapper)
    return mapper is not None and mapper.get_route(name) is not None


def customer_of(request) -> int | None:
    """The customer whose portal this is: the account's own, or (staff) ``?customer_id=``."""
    user = request.user
    if user is not None and user.customer_id is not None:
        return user.customer_id
    raw = request.GET.get("customer_id", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


def _common(request, customer_id: int | None) -> dict:
    name = None
    if customer_id is not None:
        customer = request.dbsession.get(Customer, customer_id)
        name = customer.name if customer is not None else None
    return {
        "customer_id": customer_id,
        "customer_name": name,
        "preview": request.user is not None and request.user.customer_id is None,
        "has_tickets": route_exists(request, "hosting.ticket.list"),
        "can_open_ticket": route_exists(request, "hosting.ticket.new"),
        # Remote commands and the approvals waiting for the customer (controlplane, when on).
        "has_commands": route_exists(request, "controlplane.command.list")
        and bool(request.has_permission("controlplane:command:read")),
        "query": {"customer_id": customer_id}
        if request.user.customer_id is None and customer_id
        else {},
    }


@view_config(
    route_name="hosting.portal.home",
    renderer=T + "portal.jinja2",
    request_method="GET",
    permission=P.VIEW,
)
def portal_home(request):
    customer_id = customer_of(request)
    filters = {"status": "active"}
    if customer_id is not None:
        filters["customer_id"] = customer_id
    alerts, alert_total = alert_services.page_of_alerts(request.dbsession, filters, 5, 0)
    return {
        **_common(request, customer_id),
        "summary": services.summary(request, customer_id),
        "alerts": alerts,
        "alert_total": alert_total,
    }


@view_config(
    route_name="hosting.portal.miners",
    renderer=T + "portal_miners.jinja2",
    request_method="GET",
    permission=P.VIEW,
)
def portal_miners(request):
    customer_id = customer_of(request)
    parsed = parse_live_query(request.GET, strict=False)
    query = LiveQuery(
        customer_id=customer_id,
        state=parsed.state,
        q=parsed.q,
        sort=parsed.sort if parsed.sort != "miner" else "state",
        order=parsed.order,
        limit=PAGE_SIZE,
        offset=parsed.offset - parsed.offset % PAGE_SIZE,
    )
    page = live_page(request, query)
    return {
        **_common(request, customer_id),
        "page": page,
        "live_query": query,
        "states": ("online", "warning", "offline", "nodata"),
        "prev_offset": max(0, query.offset - PAGE_SIZE) if query.offset else None,
        "next_offset": query.offset + PAGE_SIZE
        if query.offset + PAGE_SIZE < page["total"]
        else None,
    }


def _settings_context(request, prefs: dict, saved: bool = False) -> dict:
    return {
        **_common(request, customer_of(request)),
        "prefs": prefs,
        "saved": saved,
        "api_url": request.route_url("core.api_docs"),
        "example_url": request.application_url + "/api/v1/portal/miners",
    }


@view_config(
    route_name="hosting.portal.settings",
    renderer=T + "portal_settings.jinja2",
    request_method="GET",
    permission=P.VIEW,
)
def portal_settings(request):
    prefs = services.preferences(request.dbsession, request.user.id)
    return _settings_context(request, prefs, saved=bool(request.GET.get("saved")))


@view_config(
    route_name="hosting.portal.settings",
    request_method="POST",
    permission=P.VIEW,
)
def portal_settings_save(request):
    prefs = services.save_preferences(request, request.user.id, request.POST)
    request.audit(
        "hosting:portal_preferences:update",
        subject=("user", request.user.id),
        payload=prefs,
    )
    return HTTPSeeOther(request.route_path("hosting.portal.settings", _query={"saved": 1}))
