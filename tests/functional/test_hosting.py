from tests.conftest import api_headers, csrf_token


def test_admin_creates_a_site_through_the_api_and_sees_it_listed(webtest, login_as):
    login_as("admin")
    created = webtest.post_json(
        "/api/v1/hosting/sites",
        {"name": "Ekibastuz 1", "timezone": "Asia/Almaty", "capacity_kw": 25000},
        headers=api_headers(webtest),
        status=201,
    ).json
    assert created["name"] == "Ekibastuz 1"
    listing = webtest.get("/api/v1/hosting/sites").json
    assert listing["total"] == 1
    assert listing["items"][0]["capacity_kw"] == 25000
    assert webtest.get(f"/api/v1/hosting/sites/{created['id']}").json["timezone"] == "Asia/Almaty"


def test_site_list_pages_with_limit_and_offset_and_counts_every_site(webtest, login_as):
    login_as("admin")
    for name in ("C", "A", "B"):
        webtest.post_json(
            "/api/v1/hosting/sites", {"name": name}, headers=api_headers(webtest), status=201
        )
    first = webtest.get("/api/v1/hosting/sites", {"limit": 2}).json
    assert [s["name"] for s in first["items"]] == ["A", "B"]  # by name
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    rest = webtest.get("/api/v1/hosting/sites", {"limit": 2, "offset": 2}).json
    assert [s["name"] for s in rest["items"]] == ["C"] and rest["total"] == 3
    everything = webtest.get("/api/v1/hosting/sites").json
    assert (len(everything["items"]), everything["limit"], everything["offset"]) == (3, 50, 0)
    past_the_end = webtest.get("/api/v1/hosting/sites", {"offset": 10**20}).json
    assert past_the_end["items"] == [] and past_the_end["total"] == 3
    for query, message in (
        ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
        ({"limit": 500}, "limit: 500 is greater than the maximum of 200"),
        ({"offset": -1}, "offset: -1 is less than the minimum of 0"),
    ):
        error = webtest.get("/api/v1/hosting/sites", query, status=400).json["error"]
        assert (error["code"], error["message"]) == ("invalid_request", message)


def test_site_api_rejects_bad_input_with_a_clear_message_and_writes_nothing(webtest, login_as):
    login_as("admin")
    headers = api_headers(webtest)
    bad = webtest.post_json(
        "/api/v1/hosting/sites", {"name": "A", "capacity_kw": -5}, headers=headers, status=400
    ).json
    assert bad["error"]["code"] == "invalid_request"
    assert "capacity_kw" in bad["error"]["message"]
    zone = webtest.post_json(
        "/api/v1/hosting/sites",
        {"name": "A", "timezone": "Mars/Olympus"},
        headers=headers,
        status=422,
    ).json
    assert "time zone" in zone["error"]["message"]
    unknown = webtest.post_json(
        "/api/v1/hosting/sites", {"name": "A", "colour": "red"}, headers=headers, status=400
    ).json
    assert "colour" in unknown["error"]["message"]
    assert webtest.get("/api/v1/hosting/sites").json["total"] == 0


def test_duplicate_site_name_is_a_conflict(webtest, login_as):
    login_as("admin")
    headers = api_headers(webtest)
    webtest.post_json("/api/v1/hosting/sites", {"name": "Same"}, headers=headers, status=201)
    error = webtest.post_json(
        "/api/v1/hosting/sites", {"name": "Same"}, headers=headers, status=409
    ).json
    assert error["error"]["code"] == "conflict"


def test_viewer_sees_sites_but_cannot_add_one(webtest, login_as):
    login_as("viewer")
    page = webtest.get("/hosting/sites/")
    assert 'name="capacity_kw"' not in page.text
    webtest.post("/hosting/sites/", {"name": "X", "csrf_token": csrf_token(webtest)}, status=403)


def test_site_form_without_csrf_token_is_refused_and_writes_nothing(webtest, login_as):
    login_as("admin")
    webtest.post("/hosting/sites/", {"name": "X"}, status=400)
    webtest.post("/hosting/sites/", {"name": "X", "csrf_token": "forged"}, status=400)
    assert webtest.get("/api/v1/hosting/sites").json["total"] == 0


def test_admin_adds_a_site_with_the_form(webtest, login_as):
    login_as("admin")
    page = webtest.post(
        "/hosting/sites/",
        {
            "name": "North",
            "timezone": "UTC",
            "capacity_kw": "1200",
            "csrf_token": csrf_token(webtest),
        },
    )
    assert page.status_int == 303
    assert "North" in page.follow().text


def test_anonymous_api_call_is_401_json(webtest):
    error = webtest.get("/api/v1/hosting/sites", status=401).json
    assert error["error"]["code"] == "unauthorized"
