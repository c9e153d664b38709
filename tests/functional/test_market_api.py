"""The market API and admin page through the real app: documented shapes, history paging,
overrides (admins, CSRF, audited), the stale badge, and /readyz staying up when offline."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
import sqlalchemy as sa
from openapi_core.testing import MockRequest, MockResponse

from hashinsight_core.audit.models import AuditEvent
from hashinsight_core.market import figures, importer
from hashinsight_core.market.models import MarketLatest, MarketOverride
from tests.conftest import api_headers, csrf_token, login
from tests.fixtures.market.recorded import Recorded, fresh_transport

ALL_DOWN = {
    p: "connect"
    for p in (
        "binance",
        "okx",
        "deribit",
        "coingecko",
        "mempool",
        "blockchain_info",
        "blockchain_q",
        "coinwarz",
    )
}


@pytest.fixture
def offline_app(make_app):
    """Every provider refuses the connection, as on a farm without internet."""
    handler = Recorded(fail=ALL_DOWN)
    app, registry = make_app(plugins=[], market__transport=httpx.MockTransport(handler))
    app.handler = handler
    return app, registry


@pytest.fixture
def online_app(make_app):
    return make_app(plugins=[], market__transport=fresh_transport())


def check_documented(registry, method: str, path: str, response, query: str = ""):
    """The answer matches the OpenAPI document (openapi-core validates it)."""
    request = MockRequest(
        "http://localhost",
        method,
        path,
        args=dict(part.split("=", 1) for part in query.split("&") if part),
    )
    answer = MockResponse(
        response.body, status_code=response.status_int, content_type=response.content_type
    )
    registry["openapi"].validate_response(request, answer)


def test_no_data_yet_is_a_clear_answer_and_the_app_keeps_working(offline_app):
    app, registry = offline_app
    response = app.get("/api/v1/market")  # anonymous: the public calculator reads this
    body = response.json
    check_documented(registry, "get", "/api/v1/market", response)
    assert body["empty"] is True
    assert set(body["figures"]) == set(figures.FIGURES)
    assert body["figures"]["price_usd"]["value"] is None
    assert body["refresh_queued"] is True  # ...and that refresh failed on every provider
    assert app.handler.calls  # it was tried, through the recorded transport only
    ready = app.get("/readyz").json
    assert ready["status"] == "ok" and ready["checks"]["market"]["ok"] is True
    assert "no market data yet" in ready["checks"]["market"]["detail"]


def test_after_a_refresh_every_figure_has_a_source_and_age(online_app):
    app, registry = online_app
    app.get("/api/v1/market")  # queues the refresh, which runs after the request commits
    response = app.get("/api/v1/market")
    check_documented(registry, "get", "/api/v1/market", response)
    body = response.json
    price = body["figures"]["price_usd"]
    assert price["value"] == 91244.3 and price["source"] == "median(binance,okx,deribit)"
    assert price["stale"] is False and price["age_s"] < 120 and price["unit"] == "USD/BTC"
    assert body["figures"]["difficulty"]["source"] == "mempool"
    assert body["figures"]["hashprice_usd_th_day"]["source"] == "computed"
    assert body["empty"] is False and body["stale"] is False


def test_old_values_are_served_with_the_stale_flag_and_their_age(offline_app, dbsession):
    app, registry = offline_app
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=2)
    dbsession.add(
        MarketLatest(figure="difficulty", value=1.4e14, source="mempool", as_of=old, fetched_at=old)
    )
    dbsession.commit_now()
    first = app.get("/api/v1/market").json
    figure = first["figures"]["difficulty"]
    assert figure["value"] == 1.4e14 and figure["stale"] is True
    assert figure["age_s"] >= 2 * 86400
    assert first["refresh_queued"] is True
    # The refresh it queued failed on every provider: the next read says why, keeps the
    # old value, and does not queue another one straight away.
    second = app.get("/api/v1/market").json
    assert second["figures"]["difficulty"]["value"] == 1.4e14
    assert "mempool: network" in second["figures"]["difficulty"]["error"]
    assert second["refresh_queued"] is False


def test_history_pages_and_filters_by_date(offline_app, dbsession):
    app, registry = offline_app
    rows = "\n".join(
        f"2024-04-{d:02d},{60000 + d},{61000 + d},{59000 + d},{60500 + d},{d}" for d in range(1, 11)
    )
    importer.import_csv(dbsession, "date,open,high,low,close,volume\n" + rows, "price")
    dbsession.commit_now()
    query = "kind=price&from=2024-04-03&to=2024-04-08&limit=2&offset=2"
    response = app.get(f"/api/v1/market/history?{query}")
    check_documented(registry, "get", "/api/v1/market/history", response, query)
    page = response.json
    assert page["total"] == 6 and page["limit"] == 2 and page["offset"] == 2
    assert [item["date"] for item in page["items"]] == ["2024-04-05", "2024-04-06"]
    assert page["items"][0] == {
        "date": "2024-04-05",
        "open": 60005.0,
        "high": 61005.0,
        "low": 59005.0,
        "close": 60505.0,
        "volume": 5.0,
        "source": "import",
    }


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("", 400, "kind"),
        ("kind=gold", 400, "kind"),
        ("kind=price&from=20240401", 400, "from"),
        ("kind=price&from=2024-02-30", 422, "from"),
        ("kind=price&from=2024-05-01&to=2024-04-01", 422, "from"),
        ("kind=price&limit=100000", 400, "limit"),
    ],
)
def test_bad_history_queries_are_4xx_with_a_message(offline_app, query, status, field):
    app, _ = offline_app
    error = app.get(f"/api/v1/market/history?{query}", status=status).json["error"]
    assert field in error["message"]


def test_difficulty_history_lists_epochs(offline_app, dbsession):
    app, _ = offline_app
    text = (
        "height,date,difficulty\n"
        "838656,2024-04-10,86388558925171.02\n"
        "840672,2024-04-24,88104191118793.16\n"
    )
    importer.import_csv(dbsession, text, "difficulty")
    dbsession.commit_now()
    items = app.get("/api/v1/market/history?kind=difficulty").json["items"]
    assert [(i["height"], i["date"]) for i in items] == [
        (838656, "2024-04-10"),
        (840672, "2024-04-24"),
    ]


# --- overrides ---------------------------------------------------------------------------------


def test_only_admins_may_override_and_only_with_csrf(offline_app, engine, dbsession):
    app, _ = offline_app
    body = {"figure": "price_usd", "value": 95000}
    app.post_json("/api/v1/market/overrides", body, status=401)
    login(app, engine, "viewer")
    app.post_json("/api/v1/market/overrides", body, headers=api_headers(app), status=403)
    app.reset()
    login(app, engine, "admin")
    app.post_json("/api/v1/market/overrides", body, status=400)  # no CSRF token
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(MarketOverride)) == 0


def test_an_override_wins_is_audited_and_is_cleared(offline_app, engine, dbsession):
    app, registry = offline_app
    login(app, engine, "admin")
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"figure": "price_usd", "value": 95000, "note": "exchange outage", "expires_at": expires}
    response = app.post_json("/api/v1/market/overrides", body, headers=api_headers(app), status=201)
    check_documented(registry, "post", "/api/v1/market/overrides", response)
    assert response.json["value"] == 95000 and response.json["expires_at"] == expires
    price = app.get("/api/v1/market").json["figures"]["price_usd"]
    assert (price["value"], price["source"], price["overridden"]) == (95000, "override", True)
    assert price["note"] == "exchange outage"
    assert app.get("/api/v1/market/overrides").json["items"][0]["figure"] == "price_usd"
    tags = list(dbsession.scalars(sa.select(AuditEvent.tag).order_by(AuditEvent.seq)))
    assert tags[-1] == "core:market:override"
    event = dbsession.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert json.loads(event.payload)["note"] == "exchange outage"
    app.delete("/api/v1/market/overrides/price_usd", headers=api_headers(app), status=204)
    app.delete("/api/v1/market/overrides/price_usd", headers=api_headers(app), status=404)
    assert app.get("/api/v1/market").json["figures"]["price_usd"]["overridden"] is False
    tags = list(dbsession.scalars(sa.select(AuditEvent.tag).order_by(AuditEvent.seq)))
    assert tags[-1] == "core:market:override_clear"


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"figure": "price_usd", "value": -1}, 422, "outside the plausible range"),
        ({"figure": "block_height", "value": 12.5}, 422, "not a whole number"),
        ({"figure": "gold", "value": 1}, 400, "figure"),
        ({"figure": "price_usd"}, 400, "value"),
        ({"figure": "price_usd", "value": "ninety"}, 400, "value"),
        (
            {"figure": "price_usd", "value": 9e4, "expires_at": "2020-01-01T00:00:00Z"},
            422,
            "expires_at: must be in the future",
        ),
        ({"figure": "price_usd", "value": 9e4, "note": "x" * 501}, 400, "note"),
        ({"figure": "price_usd", "value": 9e4, "colour": "red"}, 400, "colour"),
    ],
)
def test_bad_overrides_are_4xx_and_store_nothing(
    offline_app, engine, dbsession, body, status, text
):
    app, _ = offline_app
    login(app, engine, "owner")
    error = app.post_json(
        "/api/v1/market/overrides", body, headers=api_headers(app), status=status
    ).json["error"]
    assert text in error["message"]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(MarketOverride)) == 0


# --- the admin page ----------------------------------------------------------------------------


def test_admin_page_shows_sources_sets_and_clears_overrides(online_app, engine, dbsession):
    app, _ = online_app
    login(app, engine, "admin")
    page = app.get("/admin/market/")
    assert page.html.find(attrs={"data-testid": "empty"}) is not None
    app.post("/admin/market/refresh/", {"csrf_token": csrf_token(app)}, status=303)
    page = app.get("/admin/market/")
    assert page.html.find(attrs={"data-testid": "empty"}) is None
    row = page.html.find("tr", attrs={"data-figure": "price_usd"})
    assert "91,244.30" in row.text and "median(binance,okx,deribit)" in row.text
    form = {
        "figure": "difficulty",
        "value": "1.2e14",
        "note": "testing",
        "hours": "2",
        "csrf_token": csrf_token(app),
    }
    app.post("/admin/market/overrides/", form, status=303)
    page = app.get("/admin/market/?outcome=set")
    assert "120.00 T" in page.html.find("tr", attrs={"data-figure": "difficulty"}).text
    assert page.html.find(attrs={"data-testid": "overrides"}).find("code").text == "difficulty"
    app.post(
        "/admin/market/overrides/clear/",
        {"figure": "difficulty", "csrf_token": csrf_token(app)},
        status=303,
    )
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(MarketOverride)) == 0


def test_admin_page_refuses_a_bad_value_with_a_message(offline_app, engine, dbsession):
    app, _ = offline_app
    login(app, engine, "owner")
    form = {
        "figure": "price_usd",
        "value": "lots",
        "note": "",
        "hours": "",
        "csrf_token": csrf_token(app),
    }
    page = app.post("/admin/market/overrides/", form, status=400)
    assert "number" in page.html.find(attrs={"data-testid": "error"}).text
    form.update(value="90000", hours="-3")
    app.post("/admin/market/overrides/", form, status=400)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(MarketOverride)) == 0


def test_admin_page_is_for_admins_and_shows_the_stale_badge(offline_app, engine, dbsession):
    app, _ = offline_app
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=5)
    dbsession.add(
        MarketLatest(figure="price_usd", value=80000.0, source="okx", as_of=old, fetched_at=old)
    )
    dbsession.commit_now()
    login(app, engine, "operator")
    app.get("/admin/market/", status=403)
    app.reset()
    login(app, engine, "admin")
    row = app.get("/admin/market/").html.find("tr", attrs={"data-figure": "price_usd"})
    assert row.find(attrs={"data-testid": "stale"}) is not None and "5 h" in row.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/market/overrides"),
        ("DELETE", "/api/v1/market/overrides/price_usd"),
        ("POST", "/admin/market/overrides/"),
        ("POST", "/admin/market/overrides/clear/"),
        ("POST", "/admin/market/refresh/"),
    ],
)
def test_state_changes_refuse_a_missing_token_and_a_foreign_origin(
    offline_app, engine, dbsession, method, path
):
    app, _ = offline_app
    login(app, engine, "owner")
    dbsession.add(MarketOverride(figure="price_usd", value=1.0, note=""))
    dbsession.commit_now()
    json_type = {"Content-Type": "application/json"}
    app.request(path, method=method, body=b"{}", headers=json_type, status=400)
    foreign = {**api_headers(app), **json_type, "Origin": "http://evil.example"}
    app.request(path, method=method, body=b"{}", headers=foreign, status=400)
    assert dbsession.scalar(sa.select(MarketOverride.figure)) == "price_usd"
    assert app.handler.calls == []  # no refresh was queued either
