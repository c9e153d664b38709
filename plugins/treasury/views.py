import datetime as dt

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from hashinsight_core.exceptions import DomainError
from hashinsight_core.openapi import DEFAULT_LIMIT
from plugins.treasury import ledger, services
from plugins.treasury.permissions import TreasuryPermission
from plugins.treasury.reports import KIND_LABELS

TEMPLATE = "plugins.treasury:templates/treasury/entries.jinja2"
PAGE_ROWS = 200  # the page shows the newest entries; the API pages through all of them
FORM_FIELDS = ("occurred_on", "kind", "btc", "usd", "note")


def step_dict(step: ledger.Step) -> dict:
    return {
        **step.entry.as_dict(),
        "balance_btc": ledger.btc_text(step.balance_btc),
        "average_cost_usd": ledger.usd_text(step.average_cost_usd),
        "realized_pl_usd": ledger.usd_text(step.realized_pl_usd),
    }


def _page(request, form: dict, error: str | None = None, field: str | None = None) -> dict:
    result = services.build_ledger(request.dbsession)
    newest = list(reversed(result.steps))[:PAGE_ROWS]
    return {
        "summary": result.summary,
        "steps": newest,
        "total": len(result.steps),
        "form": form,
        "error": error,
        "error_field": field,
        "kind_labels": KIND_LABELS,
        "today": dt.date.today().isoformat(),
    }


@view_config(
    route_name="treasury.entry.list",
    renderer=TEMPLATE,
    request_method="GET",
    permission=TreasuryPermission.ENTRY_READ,
)
def entry_list(request):
    return _page(request, {})


@view_config(
    route_name="treasury.entry.list",
    renderer=TEMPLATE,
    request_method="POST",
    permission=TreasuryPermission.ENTRY_WRITE,
)
def entry_create_form(request):
    form = {k: request.POST.get(k, "") for k in FORM_FIELDS}
    try:
        services.create_entry(request, **form)
    except DomainError as error:
        request.response.status_int = error.status
        return _page(request, form, request.localizer.translate(error.message), error.field)
    return HTTPSeeOther(request.route_path("treasury.entry.list"))


@view_config(
    route_name="treasury.api.entry.collection",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=TreasuryPermission.ENTRY_READ,
)
def api_entry_list(request):
    # Each entry's position needs every earlier one, so the ledger runs in Python and is paged
    # here rather than by paginate() in SQL; the answer has the same shape.
    query = request.openapi.parameters.query
    limit, offset = query.get("limit", DEFAULT_LIMIT), query.get("offset", 0)
    steps = services.find_steps(
        request.dbsession, query.get("date_from"), query.get("date_to"), query.get("kind")
    )
    return {
        "items": [step_dict(s) for s in steps[offset : offset + limit]],
        "total": len(steps),
        "limit": limit,
        "offset": offset,
    }


@view_config(
    route_name="treasury.api.entry.collection",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=TreasuryPermission.ENTRY_WRITE,
)
def api_entry_create(request):
    entry = services.create_entry(request, **request.openapi.body)
    step = next(s for s in services.build_ledger(request.dbsession).steps if s.entry is entry)
    request.response.status_int = 201
    return step_dict(step)


@view_config(
    route_name="treasury.api.summary",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=TreasuryPermission.ENTRY_READ,
)
def api_summary(request):
    as_of = request.openapi.parameters.query.get("as_of")
    summary = services.build_ledger(request.dbsession, as_of).summary
    return {**summary.as_dict(), "as_of": as_of.isoformat() if as_of else None}
