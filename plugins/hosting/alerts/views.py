"""Pages and JSON API of the alerts: the panel, the history, rules; acknowledge and resolve.

Item routes load their object through ``object_factory`` (a foreign or missing one is the
same 404); lists go through the scoped session. Bodies and query parameters are checked by
``rules.clean_rule`` / ``services`` so that bad input is one 422 naming each problem.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNoContent, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import exception_view_config, view_config

from hashinsight_core.errors import error_response
from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.models import Customer
from hashinsight_core.scoping import object_factory
from plugins.hosting.alerts import services
from plugins.hosting.alerts.models import Alert, AlertDelivery, AlertRule
from plugins.hosting.alerts.rules import KIND_SPECS, KINDS, SEVERITIES, RuleInvalid, form_to_data
from plugins.hosting.models import Site, Zone
from plugins.hosting.permissions import HostingPermission as P

_ = TranslationStringFactory("hashinsight")
T = "plugins.hosting:templates/hosting/"
PAGE_SIZE = 50

KIND_LABELS = {
    "offline": _("Offline"),
    "low_hashrate": _("Low hashrate"),
    "high_temp": _("High temperature"),
    "fan_failure": _("Fan failure"),
    "board_missing": _("Board missing"),
    "pool_down": _("Pool down"),
    "reject_rate": _("Rejected shares"),
    "device_silent": _("Edge device silent"),
}
SEVERITY_LABELS = {"info": _("Info"), "warning": _("Warning"), "critical": _("Critical")}
STATUS_LABELS = {
    "open": _("Open"),
    "acknowledged": _("Acknowledged"),
    "resolved": _("Resolved"),
}
RESOLUTION_LABELS = {
    "cleared": _("cleared by itself"),
    "manual": _("resolved by hand"),
    "rule_disabled": _("rule disabled"),
    "rule_deleted": _("rule deleted"),
    "rule_changed": _("rule changed"),
}


def includeme(config):
    add = config.add_route
    add("hosting.alert.list", "/hosting/alerts/")
    add("hosting.alert.history", "/hosting/alerts/history/")
    for action in ("ack", "resolve"):
        add(
            f"hosting.alert.{action}",
            f"/hosting/alerts/{{alert_id:\\d+}}/{action}",
            factory=object_factory(Alert, "alert_id"),
        )
    add("hosting.alert_rule.list", "/hosting/alerts/rules/")
    add("hosting.alert_rule.create", "/hosting/alerts/rules/new")
    add(
        "hosting.alert_rule.edit",
        "/hosting/alerts/rules/{rule_id:\\d+}/",
        factory=object_factory(AlertRule, "rule_id"),
    )
    add(
        "hosting.alert_rule.delete",
        "/hosting/alerts/rules/{rule_id:\\d+}/delete",
        factory=object_factory(AlertRule, "rule_id"),
    )
    add("hosting.api.alert_rule.collection", "/api/v1/hosting/alert-rules")
    add(
        "hosting.api.alert_rule.item",
        "/api/v1/hosting/alert-rules/{rule_id:\\d+}",
        factory=object_factory(AlertRule, "rule_id"),
    )
    add(
        "hosting.api.alert_rule.deliveries",
        "/api/v1/hosting/alert-rules/{rule_id:\\d+}/deliveries",
        factory=object_factory(AlertRule, "rule_id"),
    )
    add("hosting.api.alert.collection", "/api/v1/hosting/alerts")
    add("hosting.api.alert.summary", "/api/v1/hosting/alerts/summary")
    add(
        "hosting.api.alert.item",
        "/api/v1/hosting/alerts/{alert_id:\\d+}",
        factory=object_factory(Alert, "alert_id"),
    )
    for action in ("ack", "resolve"):
        add(
            f"hosting.api.alert.{action}",
            f"/api/v1/hosting/alerts/{{alert_id:\\d+}}/{action}",
            factory=object_factory(Alert, "alert_id"),
        )
    config.scan("plugins.hosting.alerts.views")


@exception_view_config(RuleInvalid)
def rule_invalid(exc, request):
    """A rule with problems: 422 (JSON or page) with each field's problem in ``details``,
    every message in the reader's language."""
    message, details = exc.translated(request)
    return error_response(request, exc.status, message, code=exc.code, details=details)


def shown(request, error: DomainError) -> str:
    """The error's message as text in the request's language (every problem of a rule)."""
    if isinstance(error, RuleInvalid):
        return error.translated(request)[0]
    return request.localizer.translate(error.message)


def api(route, method, permission):
    return view_config(
        route_name=route, request_method=method, renderer="json", permission=permission
    )


def json_body(request, *, optional: bool = False):
    """The JSON body, or 422 with a message (an empty body is ``{}`` where it may be left out)."""
    if optional and not request.body:
        return {}
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(_("the body is not valid JSON"), "body") from None
    if not isinstance(body, dict):
        raise InvalidInput(_("the body must be a JSON object"), "body")
    return body


def rule_dict(request, rule: AlertRule, secret: str | None = None) -> dict:
    data = rule.as_dict(with_targets=bool(request.has_permission(P.ALERT_RULE_MANAGE)))
    if secret:
        data["webhook_secret"] = secret
    return data


def labels() -> dict:
    return {
        "kind_labels": KIND_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "status_labels": STATUS_LABELS,
        "resolution_labels": RESOLUTION_LABELS,
        "kind_specs": KIND_SPECS,
    }


def _names(request, alerts) -> dict:
    """Site and zone names for a page of alerts (one query each)."""
    db = request.dbsession
    sites = {a.site_id for a in alerts}
    zones = {a.zone_id for a in alerts}
    return {
        "site_names": dict(
            db.execute(sa.select(Site.id, Site.name).where(Site.id.in_(sites))).all()
        )
        if sites
        else {},
        "zone_names": dict(
            db.execute(sa.select(Zone.id, Zone.name).where(Zone.id.in_(zones))).all()
        )
        if zones
        else {},
    }


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), 10**6)) if raw.isdigit() and len(raw) < 8 else 1


def _alert_page(request, template_status: str | None, error: str | None = None) -> dict:
    filters = services.parse_filters(request.GET, strict=False)
    if template_status is not None:
        filters["status"] = template_status
    page = _page_number(request)
    alerts, total = services.page_of_alerts(
        request.dbsession, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    sites = list(request.dbsession.execute(sa.select(Site.id, Site.name).order_by(Site.name)))
    return {
        "alerts": alerts,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters,
        "counts": services.counts(request.dbsession),
        "sites": sites,
        "kinds": KINDS,
        "severities": SEVERITIES,
        "error": error,
        "can_ack": bool(request.has_permission(P.ALERT_ACK)),
        **_names(request, alerts),
        **labels(),
    }


# --- pages: the panel and the history ----------------------------------------------------------

PANEL_TABS = ("open", "acknowledged", "resolved")


def _panel_status(request) -> str:
    status = request.GET.get("status", "open")
    return status if status in PANEL_TABS else "open"


@view_config(
    route_name="hosting.alert.list",
    renderer=T + "alerts.jinja2",
    request_method="GET",
    permission=P.ALERT_READ,
)
def alert_panel(request):
    status = _panel_status(request)
    return {**_alert_page(request, status), "tab": status, "tabs": PANEL_TABS}


@view_config(
    route_name="hosting.alert.history",
    renderer=T + "alerts_history.jinja2",
    request_method="GET",
    permission=P.ALERT_READ,
)
def alert_history(request):
    data = _alert_page(request, None)
    if "status" not in request.GET:
        data["filters"]["status"] = "all"
        alerts, total = services.page_of_alerts(
            request.dbsession, data["filters"], PAGE_SIZE, (data["page"] - 1) * PAGE_SIZE
        )
        data.update(alerts=alerts, total=total, pages=max(1, -(-total // PAGE_SIZE)))
        data.update(_names(request, alerts))
    rules = request.dbsession.execute(
        sa.select(AlertRule.id, AlertRule.name).order_by(AlertRule.name)
    )
    data["rules"] = list(rules)
    return data


def _back(request) -> str:
    target = request.POST.get("next", "")
    # Only a path of this site (no scheme, no host, no "//evil.example").
    if target.startswith("/hosting/alerts/") and "//" not in target and "\\" not in target:
        return target
    return request.route_path("hosting.alert.list")


@view_config(
    route_name="hosting.alert.ack",
    renderer=T + "alerts.jinja2",
    request_method="POST",
    permission=P.ALERT_ACK,
)
@view_config(
    route_name="hosting.alert.resolve",
    renderer=T + "alerts.jinja2",
    request_method="POST",
    permission=P.ALERT_ACK,
)
def alert_action_form(context, request):
    action = (
        services.acknowledge
        if request.matched_route.name == "hosting.alert.ack"
        else services.resolve
    )
    try:
        action(request, context.object, {"note": request.POST.get("note", "")})
    except DomainError as error:
        request.response.status_int = error.status
        status = context.object.status if context.object.status in PANEL_TABS else "open"
        return {
            **_alert_page(request, status, error=shown(request, error)),
            "tab": status,
            "tabs": PANEL_TABS,
        }
    return HTTPSeeOther(_back(request))


# --- pages: rules ------------------------------------------------------------------------------


def _rule_form_context(request, rule=None, form=None, error=None, secret=None) -> dict:
    db = request.dbsession
    sites = list(db.execute(sa.select(Site.id, Site.name).order_by(Site.name)))
    zones = list(
        db.execute(
            sa.select(Zone.id, Zone.name, Site.name)
            .join(Site, Site.id == Zone.site_id)
            .order_by(Site.name, Zone.name)
        )
    )
    customers = list(
        db.execute(sa.select(Customer.id, Customer.name).order_by(Customer.name).limit(1000))
    )
    if form is None:
        form = (
            rule.as_dict()
            if rule is not None
            else {
                "kind": "offline",
                "severity": "warning",
                "enabled": True,
                "window_minutes": 15,
                "email_to": [],
                "email_roles": [],
            }
        )
    return {
        "rule": rule,
        "form": form,
        "error": error,
        "secret": secret,
        "sites": sites,
        "zones": zones,
        "customers": customers,
        "roles": sorted(services.known_roles(db)),
        "kinds": KINDS,
        "severities": SEVERITIES,
        **labels(),
    }


def _form_echo(data: dict) -> dict:
    """What was typed, to show again after a 422 (never the secret)."""
    echo = {k: v for k, v in data.items() if k not in ("webhook_secret", "rotate_webhook_secret")}
    echo["email_to"] = [
        e for e in str(data.get("email_to") or "").replace(";", ",").split(",") if e.strip()
    ]
    return echo


@view_config(
    route_name="hosting.alert_rule.list",
    renderer=T + "alerts_rules.jinja2",
    request_method="GET",
    permission=P.ALERT_READ,
)
def rule_list(request):
    db = request.dbsession
    rules = list(db.scalars(sa.select(AlertRule).order_by(AlertRule.name, AlertRule.id)))
    open_counts = dict(
        db.execute(
            sa.select(Alert.rule_id, sa.func.count())
            .where(Alert.status.in_(services.ACTIVE), Alert.rule_id.is_not(None))
            .group_by(Alert.rule_id)
        ).all()
    )
    sites = dict(db.execute(sa.select(Site.id, Site.name)).all())
    return {
        "rules": rules,
        "open_counts": open_counts,
        "site_names": sites,
        "can_manage": bool(request.has_permission(P.ALERT_RULE_MANAGE)),
        **labels(),
    }


@view_config(
    route_name="hosting.alert_rule.create",
    renderer=T + "alerts_rule_form.jinja2",
    request_method="GET",
    permission=P.ALERT_RULE_MANAGE,
)
def rule_new(request):
    return _rule_form_context(request)


@view_config(
    route_name="hosting.alert_rule.create",
    renderer=T + "alerts_rule_form.jinja2",
    request_method="POST",
    permission=P.ALERT_RULE_MANAGE,
)
def rule_create_form(request):
    data = form_to_data(request.POST)
    try:
        rule, secret = services.create_rule(request, data)
    except DomainError as error:
        request.response.status_int = error.status
        return _rule_form_context(request, form=_form_echo(data), error=shown(request, error))
    if secret:
        # The secret is shown on this answer only (never stored elsewhere, never redirected).
        request.response.headers["Cache-Control"] = "no-store"
        return _rule_form_context(request, rule=rule, secret=secret)
    return HTTPSeeOther(request.route_path("hosting.alert_rule.list"))


@view_config(
    route_name="hosting.alert_rule.edit",
    renderer=T + "alerts_rule_form.jinja2",
    request_method="GET",
    permission=P.ALERT_RULE_MANAGE,
)
def rule_edit(context, request):
    return _rule_form_context(request, rule=context.object)


@view_config(
    route_name="hosting.alert_rule.edit",
    renderer=T + "alerts_rule_form.jinja2",
    request_method="POST",
    permission=P.ALERT_RULE_MANAGE,
)
def rule_update_form(context, request):
    rule = context.object
    data = form_to_data(request.POST)
    try:
        secret = services.update_rule(request, rule, data)
    except DomainError as error:
        request.response.status_int = error.status
        return _rule_form_context(
            request,
            rule=rule,
            form={**_form_echo(data), "id": rule.id},
            error=shown(request, error),
        )
    if secret:
        request.response.headers["Cache-Control"] = "no-store"
        return _rule_form_context(request, rule=rule, secret=secret)
    return HTTPSeeOther(request.route_path("hosting.alert_rule.list"))


@view_config(
    route_name="hosting.alert_rule.delete",
    request_method="POST",
    permission=P.ALERT_RULE_MANAGE,
)
def rule_delete_form(context, request):
    services.delete_rule(request, context.object)
    return HTTPSeeOther(request.route_path("hosting.alert_rule.list"))


# --- API: rules --------------------------------------------------------------------------------


def _paged(request, query, serialize) -> dict:
    limit, offset = services.parse_page(request.GET)
    total = request.dbsession.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = [] if offset >= total else request.dbsession.scalars(query.limit(limit).offset(offset))
    return {
        "items": [serialize(row) for row in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@api("hosting.api.alert_rule.collection", "GET", P.ALERT_READ)
def api_rule_list(request):
    query = sa.select(AlertRule).order_by(AlertRule.id)
    return _paged(request, query, lambda rule: rule_dict(request, rule))


@api("hosting.api.alert_rule.collection", "POST", P.ALERT_RULE_MANAGE)
def api_rule_create(request):
    rule, secret = services.create_rule(request, json_body(request))
    request.response.status_int = 201
    if secret:
        request.response.headers["Cache-Control"] = "no-store"
    return rule_dict(request, rule, secret)


@api("hosting.api.alert_rule.item", "GET", P.ALERT_READ)
def api_rule_get(context, request):
    return rule_dict(request, context.object)


@api("hosting.api.alert_rule.item", "PATCH", P.ALERT_RULE_MANAGE)
def api_rule_update(context, request):
    secret = services.update_rule(request, context.object, json_body(request))
    if secret:
        request.response.headers["Cache-Control"] = "no-store"
    return rule_dict(request, context.object, secret)


@api("hosting.api.alert_rule.item", "DELETE", P.ALERT_RULE_MANAGE)
def api_rule_delete(context, request):
    services.delete_rule(request, context.object)
    return HTTPNoContent()


@api("hosting.api.alert_rule.deliveries", "GET", P.ALERT_RULE_MANAGE)
def api_rule_deliveries(context, request):
    query = (
        sa.select(AlertDelivery)
        .where(AlertDelivery.rule_id == context.object.id)
        .order_by(AlertDelivery.id.desc())
    )
    return _paged(request, query, AlertDelivery.as_dict)


# --- API: alerts -------------------------------------------------------------------------------


@api("hosting.api.alert.collection", "GET", P.ALERT_READ)
def api_alert_list(request):
    filters = services.parse_filters(request.GET, strict=True)
    limit, offset = services.parse_page(request.GET)
    alerts, total = services.page_of_alerts(request.dbsession, filters, limit, offset)
    return {
        "items": [a.as_dict() for a in alerts],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@api("hosting.api.alert.summary", "GET", P.ALERT_READ)
def api_alert_summary(request):
    return services.counts(request.dbsession)


@api("hosting.api.alert.item", "GET", P.ALERT_READ)
def api_alert_get(context, request):
    return context.object.as_dict()


@api("hosting.api.alert.ack", "POST", P.ALERT_ACK)
def api_alert_ack(context, request):
    services.acknowledge(request, context.object, json_body(request, optional=True))
    return context.object.as_dict()


@api("hosting.api.alert.resolve", "POST", P.ALERT_ACK)
def api_alert_resolve(context, request):
    services.resolve(request, context.object, json_body(request, optional=True))
    return context.object.as_dict()
