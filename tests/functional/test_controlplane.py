"""Remote commands: request, list, cancel, expire; who may do what; bad input writes nothing."""

import datetime as dt

import pytest
import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError

from hashinsight_core import hookimpl
from hashinsight_core.db import utcnow
from hashinsight_core.tasks import run_in_request
from plugins.controlplane.models import Command
from plugins.controlplane.services import expire_commands
from plugins.controlplane.states import CommandStatus
from plugins.hosting.models import Site
from tests.conftest import api_headers, csrf_token, login

API = "/api/v1/controlplane/commands"
PAGE = "/controlplane/commands/"
S = CommandStatus


def add_site(engine, name="North") -> int:
    with sa.orm.Session(engine) as session:
        site = Site(name=name, timezone="UTC", capacity_kw=1000)
        session.add(site)
        session.commit()
        return site.id


def commands(engine) -> list[Command]:
    with sa.orm.Session(engine) as session:
        return list(session.scalars(sa.select(Command).order_by(Command.id)))


def set_row(engine, command_id: int, **values) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(Command).where(Command.id == command_id).values(**values))


class EventRecorder:
    """Joins the app's plugin manager and keeps every domain event delivered after commit."""

    def __init__(self):
        self.events = []

    @hookimpl
    def hashinsight_event(self, request, event):
        self.events.append(event)

    def tagged(self, tag):
        return [e.data for e in self.events if e.tag == tag]


@pytest.fixture
def recorder(registry):
    recorder = EventRecorder()
    registry.plugin_manager.register(recorder, name="test-recorder")
    return recorder


def request_command(webtest, site_id, command_type="reboot", params=None, status=201, **extra):
    body = {"site_id": site_id, "command_type": command_type, **extra}
    if params is not None:
        body["params"] = params
    return webtest.post_json(API, body, headers=api_headers(webtest), status=status).json


def test_operator_requests_a_command_which_starts_pending_and_expires_in_an_hour(
    webtest, login_as, engine, recorder
):
    site_id = add_site(engine)
    login_as("operator")
    before = utcnow().replace(microsecond=0)
    created = request_command(
        webtest, site_id, "set_power_mode", {"mode": "eco"}, reason="Grid asked us to cut load"
    )
    assert created["status"] == "PENDING"
    assert created["params"] == {"mode": "eco"}
    assert created["reason"] == "Grid asked us to cut load"
    created_at = dt.datetime.fromisoformat(created["created_at"].removesuffix("Z"))
    expires_at = dt.datetime.fromisoformat(created["expires_at"].removesuffix("Z"))
    assert expires_at - created_at == dt.timedelta(hours=1)
    assert before <= created_at <= utcnow()

    [row] = commands(engine)
    assert row.requested_by_id is not None and created["requested_by_id"] == row.requested_by_id
    assert row.status == "PENDING"

    listing = webtest.get(API).json
    assert listing["total"] == 1 and listing["limit"] == 50 and listing["offset"] == 0
    assert listing["items"][0]["id"] == created["id"]
    assert recorder.tagged("controlplane:command:request") == [
        {"command_id": created["id"], "site_id": site_id, "command_type": "set_power_mode"}
    ]


def test_command_ttl_comes_from_the_settings(make_app, engine):
    site_id = add_site(engine)
    app, _ = make_app(controlplane__command_ttl_minutes="5")
    login(app, engine, "operator")
    created = request_command(app, site_id)
    created_at = dt.datetime.fromisoformat(created["created_at"].removesuffix("Z"))
    expires_at = dt.datetime.fromisoformat(created["expires_at"].removesuffix("Z"))
    assert expires_at - created_at == dt.timedelta(minutes=5)


def test_a_bad_ttl_setting_stops_the_app_at_start_up(make_app):
    with pytest.raises(ConfigurationError, match="controlplane.command_ttl_minutes"):
        make_app(controlplane__command_ttl_minutes="an hour")


def test_unknown_site_is_422_and_writes_nothing(webtest, login_as, engine):
    login_as("operator")
    error = request_command(webtest, 999_999, status=422)
    assert error["error"]["code"] == "invalid_input"
    assert error["error"]["details"] == [
        {"field": "site_id", "message": "there is no site with id 999999"}
    ]
    assert commands(engine) == []


@pytest.mark.parametrize(
    ("command_type", "params", "field"),
    [
        ("set_power_mode", {"mode": "fast"}, "params.mode"),
        ("set_power_mode", {}, "params.mode"),
        ("set_pool", {"url": "http://pool.example.com", "user": "farm1"}, "params.url"),
        ("set_pool", {"url": "stratum+tcp://pool.example.com:3333"}, "params.user"),
        ("reboot", {"mode": "eco"}, "params.mode"),
    ],
)
def test_params_are_checked_per_command_type(
    webtest, login_as, engine, command_type, params, field
):
    site_id = add_site(engine)
    login_as("operator")
    error = webtest.post_json(
        API,
        {"site_id": site_id, "command_type": command_type, "params": params},
        headers=api_headers(webtest),
        status=422,
    ).json
    assert error["error"]["details"][0]["field"] == field
    assert field in error["error"]["message"]
    assert commands(engine) == []


def test_set_pool_with_good_params_is_accepted(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("admin")
    params = {"url": "stratum+tcp://btc.example.com:3333", "user": "farm1.rig07"}
    assert request_command(webtest, site_id, "set_pool", params)["params"] == params


def test_malformed_requests_are_400(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    headers = api_headers(webtest)
    for body in (
        {"site_id": site_id, "command_type": "self_destruct"},
        {"site_id": site_id},
        {"site_id": "one", "command_type": "reboot"},
        {"site_id": site_id, "command_type": "reboot", "colour": "red"},
    ):
        error = webtest.post_json(API, body, headers=headers, status=400).json
        assert error["error"]["code"] == "invalid_request"
    assert commands(engine) == []


def test_listing_filters_by_status_and_pages_newest_first(webtest, login_as, engine):
    site_id = add_site(engine)
    other_site = add_site(engine, "South")
    login_as("operator")
    ids = [request_command(webtest, site_id)["id"] for _ in range(3)]
    ids.append(request_command(webtest, other_site)["id"])
    webtest.post(f"{API}/{ids[0]}/cancel", headers=api_headers(webtest), status=200)

    first = webtest.get(API, {"limit": 2}).json
    assert (first["total"], first["limit"], first["offset"]) == (4, 2, 0)
    assert [c["id"] for c in first["items"]] == [ids[3], ids[2]]
    second = webtest.get(API, {"limit": 2, "offset": 2}).json
    assert [c["id"] for c in second["items"]] == [ids[1], ids[0]]
    assert webtest.get(API, {"limit": 2, "offset": 4}).json["items"] == []

    cancelled = webtest.get(API, {"status": "CANCELLED"}).json
    assert [c["id"] for c in cancelled["items"]] == [ids[0]] and cancelled["total"] == 1
    assert webtest.get(API, {"status": "PENDING"}).json["total"] == 3
    assert webtest.get(API, {"site_id": other_site}).json["total"] == 1
    webtest.get(API, {"status": "pending"}, status=400)
    webtest.get(API, {"limit": 1000}, status=400)


def test_listing_pages_with_limit_and_offset_after_a_filter(webtest, login_as, engine):
    site_id = add_site(engine)
    other_site = add_site(engine, "South")
    login_as("operator")
    ids = [request_command(webtest, site_id)["id"] for _ in range(3)]
    request_command(webtest, other_site)
    first = webtest.get(API, {"site_id": site_id, "limit": 2}).json
    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    rest = webtest.get(API, {"site_id": site_id, "limit": 2, "offset": 2}).json
    assert [c["id"] for c in rest["items"]] == [ids[0]] and rest["total"] == 3
    for query, message in (
        ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
        ({"limit": 500}, "limit: 500 is greater than the maximum of 200"),
        ({"offset": -1}, "offset: -1 is less than the minimum of 0"),
    ):
        error = webtest.get(API, query, status=400).json["error"]
        assert (error["code"], error["message"]) == ("invalid_request", message)


def test_page_shows_fifty_commands_and_older_ones_behind_the_older_link(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    start = utcnow()
    with sa.orm.Session(engine) as session:
        for n in range(52):
            when = start + dt.timedelta(seconds=n)
            session.add(
                Command(
                    site_id=site_id,
                    command_type="reboot",
                    params={},
                    status="PENDING",
                    reason="",
                    expires_at=when + dt.timedelta(hours=1),
                    created_at=when,
                    updated_at=when,
                )
            )
        session.commit()
    ids = [c.id for c in commands(engine)]  # oldest first

    def shown(page):
        return [int(tr["data-command-id"]) for tr in page.html.select("tr[data-command-id]")]

    newest = webtest.get(PAGE)
    assert shown(newest) == list(reversed(ids[2:]))  # the 50 newest, newest first
    assert "1 / 2" in newest.text
    older = webtest.get(newest.html.find("a", string="Older")["href"])
    assert shown(older) == [ids[1], ids[0]]
    assert "2 / 2" in older.text
    assert shown(webtest.get(older.html.find("a", string="Newer")["href"])) == shown(newest)
    assert shown(webtest.get(PAGE, {"page": 10**20})) == []  # far past the end: empty, no error


def test_cancel_from_every_unfinished_state_and_409_from_every_final_one(
    webtest, login_as, engine, recorder
):
    site_id = add_site(engine)
    login_as("operator")
    for state in CommandStatus:
        command_id = request_command(webtest, site_id)["id"]
        set_row(engine, command_id, status=state.value)
        url = f"{API}/{command_id}/cancel"
        if state in {S.COMPLETED, S.REJECTED, S.EXPIRED, S.FAILED, S.CANCELLED}:
            error = webtest.post(url, headers=api_headers(webtest), status=409).json
            assert error["error"]["code"] == "conflict"
            assert f"already {state.value}" in error["error"]["message"]
            assert commands(engine)[-1].status == state.value  # unchanged
        else:
            assert webtest.post(url, headers=api_headers(webtest)).json["status"] == "CANCELLED"
    assert len(recorder.tagged("controlplane:command:cancel")) == 4


def test_cancelling_twice_is_a_conflict_and_an_unknown_command_is_404(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    command_id = request_command(webtest, site_id)["id"]
    webtest.post(f"{API}/{command_id}/cancel", headers=api_headers(webtest), status=200)
    webtest.post(f"{API}/{command_id}/cancel", headers=api_headers(webtest), status=409)
    error = webtest.post(f"{API}/424242/cancel", headers=api_headers(webtest), status=404).json
    assert error["error"]["message"] == "there is no command with id 424242"


def test_viewer_can_look_but_not_request_or_cancel(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    command_id = request_command(webtest, site_id)["id"]
    webtest.post("/logout/", {"csrf_token": csrf_token(webtest)}, status=303)
    login_as("viewer")
    assert webtest.get(API).json["total"] == 1
    webtest.post_json(
        API,
        {"site_id": site_id, "command_type": "reboot"},
        headers=api_headers(webtest),
        status=403,
    )
    webtest.post(f"{API}/{command_id}/cancel", headers=api_headers(webtest), status=403)
    page = webtest.get(PAGE)
    assert 'name="command_type"' not in page.text
    assert "Cancel</button>" not in page.text
    assert commands(engine)[0].status == "PENDING"


def test_customer_cannot_see_commands(webtest, login_as):
    login_as("customer")
    webtest.get(API, status=403)
    webtest.get(PAGE, status=403)


def test_anonymous_api_call_is_401_json_and_the_page_asks_to_log_in(webtest):
    assert webtest.get(API, status=401).json["error"]["code"] == "unauthorized"
    assert "/login/" in webtest.get(PAGE, status=302).location


def test_operator_sends_a_command_with_the_form_and_sees_its_badge(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    page = webtest.get(PAGE)
    assert 'name="command_type"' in page.text
    response = webtest.post(
        PAGE,
        {
            "site_id": str(site_id),
            "command_type": "set_power_mode",
            "mode": "turbo",
            "pool_url": "",
            "pool_user": "",
            "reason": "cold night",
            "csrf_token": csrf_token(webtest),
        },
    )
    assert response.status_int == 303
    page = response.follow()
    [row] = commands(engine)
    assert row.params == {"mode": "turbo"} and row.reason == "cold night"
    badge = page.html.find("span", attrs={"data-status": "PENDING"})
    assert badge is not None and "text-bg-secondary" in badge["class"]
    script = page.html.find("script", src=lambda src: src and "controlplane.js" in src)
    js = webtest.get(script["src"])  # served by the app, as a script
    assert js.content_type in {"application/javascript", "text/javascript"}
    assert "data-params-for" in js.text


def test_form_errors_show_a_message_and_write_nothing(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    page = webtest.post(
        PAGE,
        {
            "site_id": str(site_id),
            "command_type": "set_pool",
            "pool_url": "ftp://x",
            "pool_user": "w",
            "csrf_token": csrf_token(webtest),
        },
        status=422,
    )
    assert "stratum+tcp://" in page.html.find(attrs={"data-testid": "error"}).text
    assert 'value="ftp://x"' in page.text  # what was typed is kept
    webtest.post(PAGE, {"site_id": str(site_id), "command_type": "reboot"}, status=400)
    assert commands(engine) == []


def test_cancel_button_on_the_page(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    command_id = request_command(webtest, site_id)["id"]
    page = webtest.get(PAGE)
    form = page.forms[
        [f.action for f in page.forms.values()].index(
            f"/controlplane/commands/{command_id}/cancel/"
        )
    ]
    assert form.submit().status_int == 303
    assert commands(engine)[0].status == "CANCELLED"
    again = webtest.post(
        f"/controlplane/commands/{command_id}/cancel/",
        {"csrf_token": csrf_token(webtest)},
        status=409,
    )
    assert "already CANCELLED" in again.text


def test_status_filter_on_the_page(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    keep = request_command(webtest, site_id)["id"]
    gone = request_command(webtest, site_id)["id"]
    webtest.post(f"{API}/{gone}/cancel", headers=api_headers(webtest))
    page = webtest.get(PAGE, {"status": "CANCELLED"})
    rows = [int(tr["data-command-id"]) for tr in page.html.select("tr[data-command-id]")]
    assert rows == [gone] and keep not in rows


def test_expire_job_expires_only_open_commands_past_their_time_and_is_idempotent(
    webtest, login_as, engine, registry, recorder
):
    site_id = add_site(engine)
    login_as("operator")
    past = utcnow() - dt.timedelta(minutes=1)
    future = utcnow() + dt.timedelta(minutes=30)
    cases = {}  # command id -> the status it should have after the job
    should_expire = []
    for state in CommandStatus:
        for when in (past, future):
            command_id = request_command(webtest, site_id)["id"]
            set_row(engine, command_id, status=state.value, expires_at=when)
            if state in {S.PENDING, S.PENDING_APPROVAL, S.APPROVED} and when is past:
                should_expire.append(command_id)
                cases[command_id] = "EXPIRED"
            else:
                cases[command_id] = state.value
    recorder.events.clear()

    assert run_in_request(registry, expire_commands) == 3
    after = {c.id: c for c in commands(engine)}
    assert {cid: c.status for cid, c in after.items()} == cases
    expired_events = recorder.tagged("controlplane:command:expire")
    assert sorted(e["command_id"] for e in expired_events) == sorted(should_expire)
    assert all(e["site_id"] == site_id for e in expired_events)

    # A second run finds nothing to do and touches no row.
    stamps = {c.id: c.updated_at for c in after.values()}
    assert run_in_request(registry, expire_commands) == 0
    assert {c.id: c.updated_at for c in commands(engine)} == stamps
    assert len(recorder.tagged("controlplane:command:expire")) == 3


def test_expire_job_is_registered_every_minute_and_runs_from_huey(
    webtest, login_as, engine, registry
):
    assert "controlplane.expire_commands" in registry["periodic_task_names"]
    site_id = add_site(engine)
    login_as("operator")
    command_id = request_command(webtest, site_id)["id"]
    set_row(engine, command_id, expires_at=utcnow() - dt.timedelta(seconds=1))
    task = registry["periodic_tasks"]["controlplane.expire_commands"]
    task.call_local()
    assert commands(engine)[0].status == "EXPIRED"
    webtest.post(f"{API}/{command_id}/cancel", headers=api_headers(webtest), status=409)


def test_expire_job_is_not_there_without_the_plugin(make_app):
    _, registry = make_app(plugins=["hosting"])
    assert "controlplane.expire_commands" not in registry["periodic_task_names"]
