"""The market JSON API and the admin page (sources, ages, overrides, refresh now)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.view import view_config

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.market import figures, service
from hashinsight_core.market.models import MarketDifficulty, MarketPriceDaily
from hashinsight_core.openapi import paginate
from hashinsight_core.permissions import CorePermission

_ = TranslationStringFactory("hashinsight")

PAGE_TEMPLATE = "hashinsight_core:templates/market/admin.jinja2"
OVERRIDE_TAG = "core:market:override"
CLEAR_TAG = "core:market:override_clear"

LABELS = {
    "price_usd": _("BTC price (USD)"),
    "difficulty": _("Difficulty"),
    "hashrate_ehs": _("Network hashrate (EH/s)"),
    "block_height": _("Block height"),
    "fees_btc_144": _("Fees per block, last ${blocks} blocks (BTC)", mapping={"blocks": 144}),
    "fees_btc_1008": _("Fees per block, last ${blocks} blocks (BTC)", mapping={"blocks": 1008}),
    "fees_btc_2016": _("Fees per block, last ${blocks} blocks (BTC)", mapping={"blocks": 2016}),
    "next_adjustment_pct": _("Next difficulty change (estimate, %)"),
    "next_adjustment_height": _("Next difficulty change at height"),
    "next_adjustment_time": _("Next difficulty change (estimated time, UTC)"),
    "hashprice_usd_th_day": _("Hashprice (USD per TH/s per day)"),
}

OUTCOMES = {
    "set": _("The override is in force."),
    "cleared": _("The override was cleared; provider values apply again."),
    "queued": _("A refresh was queued; reload in a minute."),
}


def _stamp(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def override_dict(row) -> dict:
    return {
        "figure": row.figure,
        "value": row.value,
        "note": row.note,
        "created_at": _stamp(row.created_at),
        "created_by": row.created_by_id,
        "expires_at": _stamp(row.expires_at),
    }


def _parse_day(text: str | None, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            _(
                "${field}: '${text}' is not a date like 2024-04-20",
                mapping={"field": field, "text": text[:20]},
            ),
            field,
        ) from None


def _parse_expiry(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            _(
                "expires_at: '${text}' is not a time like 2026-05-01T08:00:00Z",
                mapping={"text": str(value)[:40]},
            ),
            "expires_at",
        ) from None
    return parsed


def _set_override(request, name, value, note, expires_at):
    user = request.user
    row = service.set_override(
        request.dbsession, name, value, note, expires_at, user.id if user else None
    )
    request.audit(
        OVERRIDE_TAG,
        subject=("market_figure", name),
        payload={"value": row.value, "note": row.note, "expires_at": _stamp(row.expires_at)},
    )
    return row


def _clear_override(request, name) -> bool:
    if not service.clear_override(request.dbsession, name):
        return False
    request.audit(CLEAR_TAG, subject=("market_figure", name), payload={})
    return True


# --- API ------------------------------------------------------------------------------------


@view_config(
    route_name="core.api.market",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CorePermission.MARKET_READ,
)
def api_current(request):
    return service.snapshot_dict(service.current(request))


@view_config(
    route_name="core.api.market.history",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CorePermission.MARKET_READ,
)
def api_history(request):
    params = request.openapi.parameters.query
    start = _parse_day(params.get("from"), "from")
    end = _parse_day(params.get("to"), "to")
    if start and end and start > end:
        raise InvalidInput(_("from: must not be after to"), "from")
    query = service.history_query(params["kind"], start, end)
    return paginate(request, query, service.history_dict)


@view_config(
    route_name="core.api.market.overrides",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=CorePermission.MARKET_READ,
)
def api_overrides(request):
    return {"items": [override_dict(r) for r in service.active_overrides(request.dbsession)]}


@view_config(
    route_name="core.api.market.overrides",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=CorePermission.MARKET_OVERRIDE,
)
def api_override_set(request):
    body = request.openapi.body
    row = _set_override(
        request,
        body["figure"],
        body["value"],
        body.get("note", ""),
        _parse_expiry(body.get("expires_at")),
    )
    request.response.status_int = 201
    return override_dict(row)


@view_config(
    route_name="core.api.market.override",
    request_method="DELETE",
    openapi=True,
    permission=CorePermission.MARKET_OVERRIDE,
)
def api_override_clear(request):
    name = request.matchdict["figure"]
    if not _clear_override(request, name):
        raise HTTPNotFound(
            request.localizer.translate(
                _("no override of ${figure} is in force", mapping={"figure": name[:40]})
            )
        )
    return Response(status=204)


# --- admin page -----------------------------------------------------------------------------


def display(name: str, value: float | None) -> str:
    """A figure for people: thousands separators, sensible precision."""
    if value is None:
        return "—"
    if name == "price_usd":
        return f"{value:,.2f}"
    if name == "difficulty":
        return f"{value / 1e12:,.2f} T"
    if name in ("block_height", "next_adjustment_height"):
        return f"{int(value):,}"
    if name == "next_adjustment_time":
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M")
    if name == "next_adjustment_pct":
        return f"{value:+.2f}"
    if name == "hashrate_ehs":
        return f"{value:,.1f}"
    return f"{value:.5f}" if value < 1 else f"{value:,.4f}"


def age_text(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _history_counts(dbsession) -> dict:
    price = dbsession.execute(
        sa.select(
            sa.func.count(), sa.func.min(MarketPriceDaily.date), sa.func.max(MarketPriceDaily.date)
        )
    ).one()
    difficulty = dbsession.execute(
        sa.select(
            sa.func.count(),
            sa.func.min(MarketDifficulty.height),
            sa.func.max(MarketDifficulty.height),
        )
    ).one()
    return {"price": price, "difficulty": difficulty}


def page_data(request, error: str | None = None, form: dict | None = None) -> dict:
    snapshot = service.read_snapshot(request.dbsession, request.registry["market.config"])
    rows = [
        {
            "name": name,
            "label": request.localizer.translate(LABELS[name]),
            "figure": found,
            "display": display(name, found.value),
            "age": age_text(found.age_s),
            "ttl": request.registry["market.config"].ttl_s[name],
        }
        for name, found in snapshot.figures.items()
    ]
    outcome = OUTCOMES.get(request.GET.get("outcome", ""))
    return {
        "rows": rows,
        "snapshot": snapshot,
        "overrides": service.active_overrides(request.dbsession),
        "history": _history_counts(request.dbsession),
        "offline": request.registry["market.config"].offline,
        "error": error,
        "form": form or {"figure": "price_usd", "value": "", "note": "", "hours": ""},
        "outcome": request.localizer.translate(outcome) if outcome else None,
        "display": display,
    }


@view_config(
    route_name="core.market.admin",
    request_method="GET",
    renderer=PAGE_TEMPLATE,
    permission=CorePermission.MARKET_OVERRIDE,
)
def admin_page(request):
    return page_data(request)


@view_config(
    route_name="core.market.override",
    request_method="POST",
    renderer=PAGE_TEMPLATE,
    permission=CorePermission.MARKET_OVERRIDE,
)
def admin_override(request):
    post = request.POST
    form = {
        key: (post.get(key) or "").strip()[:500] for key in ("figure", "value", "note", "hours")
    }
    try:
        try:
            value = float(form["value"].replace(",", ""))
        except ValueError:
            raise InvalidInput(_("Enter the value as a number."), "value") from None
        expires = None
        if form["hours"]:
            try:
                hours = float(form["hours"])
            except ValueError:
                hours = -1
            if not 0 < hours <= 24 * 366:
                raise InvalidInput(_("Hours must be between 0 and 8784."), "hours")
            expires = utcnow() + dt.timedelta(hours=hours)
        _set_override(request, form["figure"], value, form["note"], expires)
    except InvalidInput as problem:
        request.response.status_int = 400
        message = request.localizer.translate(problem.message)
        return page_data(request, error=message, form=form)

    return HTTPSeeOther(request.route_path("core.market.admin", _query={"outcome": "set"}))


@view_config(
    route_name="core.market.override_clear",
    request_method="POST",
    permission=CorePermission.MARKET_OVERRIDE,
)
def admin_override_clear(request):
    name = (request.POST.get("figure") or "")[:40]
    if name not in figures.FIGURES or not _clear_override(request, name):
        raise HTTPNotFound(
            request.localizer.translate(
                _("no override of ${figure} is in force", mapping={"figure": name})
            )
        )
    return HTTPSeeOther(request.route_path("core.market.admin", _query={"outcome": "cleared"}))


@view_config(
    route_name="core.market.refresh",
    request_method="POST",
    permission=CorePermission.MARKET_OVERRIDE,
)
def admin_refresh(request):
    request.enqueue(service.refresh_job, False)
    return HTTPSeeOther(request.route_path("core.market.admin", _query={"outcome": "queued"}))
