import sqlalchemy as sa

from hashinsight_core import hookimpl
from hashinsight_core.events import DomainEvent
from tests.conftest import api_headers, csrf_token

API = "/api/v1/crm/customers"


def add(webtest, **fields):
    return webtest.post_json(API, fields, headers=api_headers(webtest), status=201).json


def count_customers(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM core_customers"))


def test_admin_adds_a_customer_through_the_api_and_reads_it_back(webtest, login_as):
    login_as("admin")
    created = add(
        webtest,
        name="  Steppe Hash LLP ",
        contact_name="Aigerim",
        contact_email="ops@steppehash.kz",
        phone="+7 (701) 123-45-67",
    )
    assert created["name"] == "Steppe Hash LLP"  # trimmed
    assert created["status"] == "active"  # the default
    assert created["notes"] is None
    one = webtest.get(f"{API}/{created['id']}").json
    assert one == created


def test_list_searches_name_and_email_in_any_case_and_filters_by_status(webtest, login_as):
    login_as("admin")
    add(webtest, name="Steppe Hash", contact_email="ops@steppe.kz")
    add(webtest, name="Altai Mining", contact_email="Boss@ALTAI.cn", status="paused")
    add(webtest, name="Cheap_Power 100%", status="ended")

    def names(**query):
        return [c["name"] for c in webtest.get(API, query).json["items"]]

    assert names() == ["Altai Mining", "Cheap_Power 100%", "Steppe Hash"]  # by name
    assert names(q="STEPPE") == ["Steppe Hash"]
    assert names(q="altai.cn") == ["Altai Mining"]  # e-mail, other case
    assert names(q="100%") == ["Cheap_Power 100%"]  # % and _ are plain characters
    assert names(q="p_p") == ["Cheap_Power 100%"]
    assert names(q="i_m") == []  # "_" as a wildcard would match "Altai Mining"
    assert names(q="nobody") == []
    assert names(status="paused") == ["Altai Mining"]
    assert names(q="a", status="active") == ["Steppe Hash"]


def test_list_pages_with_limit_and_offset_and_counts_every_match(webtest, login_as):
    login_as("admin")
    for n in range(5):
        add(webtest, name=f"Customer {n}")
    page = webtest.get(API, {"limit": 2, "offset": 2}).json
    assert [c["name"] for c in page["items"]] == ["Customer 2", "Customer 3"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    assert webtest.get(API, {"offset": 10}).json == {
        "items": [],
        "total": 5,
        "limit": 50,
        "offset": 10,
    }
    last = webtest.get(API, {"limit": 2, "offset": 4}).json
    assert [c["name"] for c in last["items"]] == ["Customer 4"] and last["total"] == 5
    filtered = webtest.get(API, {"q": "customer 1", "limit": 1}).json
    assert [c["name"] for c in filtered["items"]] == ["Customer 1"] and filtered["total"] == 1
    for query, message in (
        ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
        ({"limit": 201}, "limit: 201 is greater than the maximum of 200"),
        ({"offset": -1}, "offset: -1 is less than the minimum of 0"),
    ):
        error = webtest.get(API, query, status=400).json["error"]
        assert (error["code"], error["message"]) == ("invalid_request", message)


def test_patch_changes_only_the_given_fields(webtest, login_as):
    login_as("admin")
    created = add(webtest, name="North", contact_name="Ivan", phone="123", notes="old")
    headers = api_headers(webtest)
    changed = webtest.patch_json(
        f"{API}/{created['id']}", {"status": "paused", "notes": None}, headers=headers
    ).json
    assert changed["status"] == "paused"
    assert changed["notes"] is None  # null clears an optional field
    assert (changed["name"], changed["contact_name"], changed["phone"]) == ("North", "Ivan", "123")
    assert webtest.get(f"{API}/{created['id']}").json["status"] == "paused"
    renamed = webtest.patch_json(f"{API}/{created['id']}", {"name": "north"}, headers=headers)
    assert renamed.json["name"] == "north"  # its own name in another case is no conflict


def test_unknown_customer_is_404(webtest, login_as):
    login_as("admin")
    headers = api_headers(webtest)
    assert webtest.get(f"{API}/999", status=404).json["error"]["code"] == "not_found"
    webtest.patch_json(f"{API}/999", {"status": "ended"}, headers=headers, status=404)
    webtest.get(f"{API}/abc", status=404)


def test_duplicate_name_is_a_conflict_in_any_case(webtest, login_as, engine):
    login_as("admin")
    headers = api_headers(webtest)
    first = add(webtest, name="Same Name")
    other = add(webtest, name="Other")
    error = webtest.post_json(API, {"name": "SAME name"}, headers=headers, status=409).json
    assert error["error"]["code"] == "conflict"
    assert "Same" in error["error"]["message"] or "SAME" in error["error"]["message"]
    webtest.patch_json(f"{API}/{other['id']}", {"name": "same NAME"}, headers=headers, status=409)
    assert webtest.get(f"{API}/{other['id']}").json["name"] == "Other"
    assert webtest.get(f"{API}/{first['id']}").json["name"] == "Same Name"
    assert count_customers(engine) == 2


def test_bad_email_or_status_is_422_with_a_message_and_nothing_written(webtest, login_as, engine):
    login_as("admin")
    headers = api_headers(webtest)
    for email in ("not-an-email", "a@b", "two@@example.com", "sp ace@example.com"):
        error = webtest.post_json(
            API, {"name": "X", "contact_email": email}, headers=headers, status=422
        ).json["error"]
        assert "e-mail" in error["message"]
        assert error["details"] == [{"field": "contact_email", "message": error["message"]}]
    error = webtest.post_json(
        API, {"name": "X", "status": "gone"}, headers=headers, status=422
    ).json["error"]
    assert "active, paused, ended" in error["message"]
    webtest.get(API, {"status": "gone"}, status=422)
    assert count_customers(engine) == 0

    created = add(webtest, name="Kept", contact_email="kept@example.com")
    webtest.patch_json(
        f"{API}/{created['id']}",
        {"contact_email": "broken", "status": "paused"},
        headers=headers,
        status=422,
    )
    kept = webtest.get(f"{API}/{created['id']}").json
    assert (kept["contact_email"], kept["status"]) == ("kept@example.com", "active")


def test_malformed_requests_are_400(webtest, login_as, engine):
    login_as("admin")
    headers = api_headers(webtest)
    assert (
        "colour"
        in webtest.post_json(API, {"name": "X", "colour": "red"}, headers=headers, status=400).json[
            "error"
        ]["message"]
    )
    webtest.post_json(API, {"name": ""}, headers=headers, status=400)
    webtest.post_json(API, {"contact_name": "no name"}, headers=headers, status=400)
    webtest.post_json(API, {"name": "x" * 201}, headers=headers, status=400)
    created = add(webtest, name="Y")
    webtest.patch_json(f"{API}/{created['id']}", {}, headers=headers, status=400)
    webtest.patch_json(f"{API}/{created['id']}", {"id": 5}, headers=headers, status=400)
    webtest.patch_json(f"{API}/{created['id']}", {"name": "   "}, headers=headers, status=422)
    assert count_customers(engine) == 1


def test_roles_read_and_write_as_granted(webtest, login_as):
    login_as("operator")
    assert webtest.get(API).json["total"] == 0
    page = webtest.get("/crm/customers/")
    assert 'name="contact_email"' not in page.text  # no add form without the write grant
    webtest.post_json(API, {"name": "X"}, headers=api_headers(webtest), status=403)
    webtest.post("/crm/customers/", {"name": "X", "csrf_token": csrf_token(webtest)}, status=403)


def test_customer_role_cannot_see_the_customer_list(webtest, login_as):
    login_as("customer")
    webtest.get(API, status=403)
    webtest.get("/crm/customers/", status=403)
    assert 'data-route="crm.customer.list"' not in webtest.get("/").text


def test_viewer_reads_and_cannot_patch(webtest, login_as, engine):
    login_as("admin")
    created = add(webtest, name="Read only")
    webtest.post("/logout/", {"csrf_token": csrf_token(webtest)})
    login_as("viewer")
    assert webtest.get(f"{API}/{created['id']}").json["name"] == "Read only"
    assert 'data-route="crm.customer.list"' in webtest.get("/").text
    webtest.patch_json(
        f"{API}/{created['id']}", {"status": "ended"}, headers=api_headers(webtest), status=403
    )


def test_anonymous_api_call_is_401_json_and_page_asks_to_log_in(webtest):
    assert webtest.get(API, status=401).json["error"]["code"] == "unauthorized"
    assert "/login/" in webtest.get("/crm/customers/", status=302).location


def test_admin_adds_a_customer_with_the_form_and_searches_for_it(webtest, login_as):
    login_as("admin")
    response = webtest.post(
        "/crm/customers/",
        {
            "name": "Form Co",
            "contact_name": "Li Wei",
            "contact_email": "li@form.example",
            "phone": "138 0013 8000",
            "status": "active",
            "notes": "",
            "csrf_token": csrf_token(webtest),
        },
        status=303,
    )
    page = response.follow()
    assert "Form Co" in page.text and "li@form.example" in page.text
    found = webtest.get("/crm/customers/", {"q": "LI@FORM"})
    assert "Form Co" in found.text
    missing = webtest.get("/crm/customers/", {"q": "nobody"})
    assert "Form Co" not in missing.text
    assert 'value="nobody"' in missing.text  # the search box keeps what was typed


def test_form_error_shows_the_message_and_keeps_what_was_typed(webtest, login_as, engine):
    login_as("admin")
    page = webtest.post(
        "/crm/customers/",
        {
            "name": "Typed Name",
            "contact_name": "Typed Person",
            "contact_email": "typed-at-example",
            "phone": "",
            "status": "paused",
            "notes": "typed notes",
            "csrf_token": csrf_token(webtest),
        },
        status=422,
    )
    assert "is not an e-mail address" in page.text
    assert 'value="Typed Name"' in page.text and 'value="Typed Person"' in page.text
    assert 'value="typed-at-example"' in page.text and "typed notes" in page.text
    assert '<option value="paused" selected>' in page.text
    assert count_customers(engine) == 0

    add(webtest, name="Taken")
    page = webtest.post(
        "/crm/customers/",
        {"name": "taken", "status": "active", "csrf_token": csrf_token(webtest)},
        status=409,
    )
    assert "already exists" in page.text
    assert count_customers(engine) == 1


def test_form_without_csrf_token_is_refused_and_writes_nothing(webtest, login_as, engine):
    login_as("admin")
    webtest.post("/crm/customers/", {"name": "X"}, status=400)
    webtest.post("/crm/customers/", {"name": "X", "csrf_token": "forged"}, status=400)
    webtest.post_json(API, {"name": "X"}, status=400)  # the API needs the header too
    assert count_customers(engine) == 0


def test_changes_are_announced_as_events_after_commit(webtest, login_as, registry):
    seen: list[DomainEvent] = []

    class Recorder:
        @hookimpl
        def hashinsight_event(self, request, event):
            seen.append(event)

    registry.plugin_manager.register(Recorder(), name="recorder")
    login_as("admin")
    headers = api_headers(webtest)
    created = add(webtest, name="Evented")
    webtest.patch_json(
        f"{API}/{created['id']}", {"status": "ended", "name": "Evented"}, headers=headers
    )
    webtest.patch_json(f"{API}/{created['id']}", {"status": "ended"}, headers=headers)  # no change
    webtest.post_json(API, {"name": "Evented"}, headers=headers, status=409)
    crm = [(e.tag, e.data) for e in seen if e.tag.startswith("crm:")]
    assert crm == [
        ("crm:customer:create", {"customer_id": created["id"]}),
        ("crm:customer:update", {"customer_id": created["id"], "fields": ["status"]}),
    ]
