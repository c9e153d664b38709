import datetime as dt
import zoneinfo

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import DomainError
from hashinsight_core.openapi import paginate
from plugins.curtailment import services
from plugins.curtailment.models import EnergyPrice
from plugins.curtailment.permissions import CurtailmentPermission
from plugins.hosting.services import list_sites

_ = TranslationStringFactory("hashinsight")

TEMPLATE = "plugins.curtailment:templates/curtailment/prices.jinja2"
PAGE_MAX_DAYS = 31


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _local(site, when: dt.datetime) -> str:
    try:
        zone = zoneinfo.ZoneInfo(site.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ""
    return when.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def page_data(request, error=None, csv_form=None) -> dict:
    params = request.GET
    sites = list_sites(request.dbsession)
    site = None
    if sites:
        wanted = params.get("site_id", "")
        site = next((s for s in sites if str(s.id) == wanted), sites[0])
    today = utcnow().date()
    start = _date(params.get("from"), today - dt.timedelta(days=1))
    end = _date(params.get("to"), start + dt.timedelta(days=3))
    if not start < end <= start + dt.timedelta(days=PAGE_MAX_DAYS):
        end = start + dt.timedelta(days=3)
    start_at = dt.datetime.combine(start, dt.time())
    end_at = dt.datetime.combine(end, dt.time())

    prices, plan, plan_error = [], None, None
    if site is not None:
        prices = services.list_prices(request.dbsession, site.id, start_at, end_at)
        wants_plan = params.get("breakeven", "") != ""
        if wants_plan and request.has_permission(CurtailmentPermission.PLAN_READ):
            try:
                plan = services.make_plan(
                    request,
                    site.id,
                    params["breakeven"],
                    start_at,
                    end_at,
                    params.get("load_mw") or None,
                )
            except DomainError as problem:
                plan_error = request.localizer.translate(problem.message)
    curtail = {h["starts_at"] for h in plan["curtail_hours"]} if plan else set()
    return {
        "sites": sites,
        "site": site,
        "start": start,
        "end": end,
        "rows": [
            (p, _local(site, p.starts_at), services.iso(p.starts_at) in curtail) for p in prices
        ],
        "plan": plan,
        "plan_error": plan_error,
        "breakeven": params.get("breakeven", ""),
        "load_mw": params.get("load_mw", ""),
        "default_load_mw": (site.capacity_kw / 1000) if site is not None else 0,
        "error": error,
        "csv_form": csv_form or {},
    }


@view_config(
    route_name="curtailment.price.list",
    renderer=TEMPLATE,
    request_method="GET",
    permission=CurtailmentPermission.PRICE_READ,
)
def price_page(request):
    return page_data(request)


@view_config(
    route_name="curtailment.price.list",
    renderer=TEMPLATE,
    request_method="POST",
    permission=CurtailmentPermission.PRICE_WRITE,
)
def price_import_form(request):
    """Pasted CSV: all lines are added, or none, and the error names the line."""
    form = {k: request.POST.get(k, "") for k in ("site_id", "currency", "csv")}
    try:
        site = services.get_site(request.dbsession, int(form["site_id"] or 0))
        rows, lines = services.rows_from_csv(form["csv"], site.id, form["currency"] or "USD")
        services.add_prices(request, rows)
    except (services.RowError, services.RowConflict) as problem:
        request.response.status_int = problem.status
        translate = request.localizer.translate
        text = translate(services.at(problem.problem, problem.name))
        message = translate(
            _(
                "line ${number}: ${problem}",
                mapping={"number": lines[problem.index], "problem": text},
            )
        )
        return page_data(request, error=message, csv_form=form)
    except (DomainError, ValueError) as problem:
        request.response.status_int = getattr(problem, "status", 422)
        message = getattr(problem, "message", None) or str(problem)
        return page_data(request, error=request.localizer.translate(message), csv_form=form)

    return HTTPSeeOther(request.route_path("curtailment.price.list", _query={"site_id": site.id}))


@view_config(
    route_name="curtailment.api.price.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CurtailmentPermission.PRICE_READ,
)
def api_price_list(request):
    query = request.openapi.parameters.query
    prices = services.price_query(
        request.dbsession, query["site_id"], query.get("from"), query.get("to")
    )
    return paginate(request, prices, EnergyPrice.as_dict)


@view_config(
    route_name="curtailment.api.price.collection",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=CurtailmentPermission.PRICE_WRITE,
)
def api_price_create(request):
    prices = services.add_prices(request, request.openapi.body["rows"])
    request.response.status_int = 201
    return {"created": len(prices), "items": [p.as_dict() for p in prices]}


@view_config(
    route_name="curtailment.api.plan.create",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=CurtailmentPermission.PLAN_READ,
)
def api_plan(request):
    body = request.openapi.body
    return services.make_plan(
        request,
        body["site_id"],
        body["breakeven_usd_per_mwh"],
        body["from"],
        body["to"],
        body.get("load_mw"),
    )
