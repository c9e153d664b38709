"""The web shell: pages, login, nav by permission, errors, brand, language, headers."""

import pytest
import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core import make_config
from tests.conftest import base_settings, csrf_token, login, make_user


def test_home_page_is_themed_and_lists_public_modules(webtest):
    page = webtest.get("/")
    assert page.status_int == 200
    assert "bootstrap.min.css" in page.text and "app.css" in page.text
    assert 'data-route="core.home"' in page.text


def test_nav_shows_only_what_the_role_may_open(webtest, login_as):
    login_as("customer")
    assert 'data-route="hosting.device.list"' not in webtest.get("/").text
    page = webtest.get("/hosting/devices/", status=403)
    assert 'data-status="403"' in page.text  # the themed page, not a bare error


def test_admin_nav_includes_hosting(webtest, login_as):
    login_as("admin")
    assert 'data-route="hosting.site.list"' in webtest.get("/").text


def test_anonymous_page_request_is_sent_to_login_and_back(webtest, engine):
    response = webtest.get("/hosting/sites/", status=302)
    assert "/login/?next=%2Fhosting%2Fsites%2F" in response.location
    email, password = make_user(engine, "admin")
    form = response.follow().forms[0]
    form["email"], form["password"] = email, password
    assert form.submit().location.endswith("/hosting/sites/")


def test_wrong_password_is_refused_with_a_message(webtest, engine):
    email, _ = make_user(engine, "admin")
    page = webtest.post(
        "/login/",
        {"email": email, "password": "wrong password!", "csrf_token": csrf_token(webtest)},
        status=400,
    )
    assert "do not match" in page.text
    assert "hi_session" not in webtest.cookies


def test_login_never_redirects_off_site(webtest, engine):
    email, password = make_user(engine, "viewer")
    response = webtest.post(
        "/login/",
        {
            "email": email,
            "password": password,
            "next": "//evil.example/",
            "csrf_token": csrf_token(webtest),
        },
    )
    assert response.location.endswith("localhost/")


def test_logout_ends_the_session_on_the_server(webtest, login_as):
    login_as("admin")
    cookie = webtest.cookies["hi_session"]
    webtest.post("/logout/", {"csrf_token": csrf_token(webtest)}, status=303)
    webtest.set_cookie("hi_session", cookie)  # replaying the old cookie does not log back in
    webtest.get("/api/v1/hosting/sites", status=401)


def test_not_found_is_themed_for_people_and_json_for_the_api(webtest):
    page = webtest.get("/no/such/page", status=404)
    assert 'data-status="404"' in page.text
    assert webtest.get("/api/v1/no/such", status=404).json["error"]["code"] == "not_found"


def test_unexpected_error_is_a_themed_500_and_json_under_api(db_url, engine):
    config = make_config({**base_settings(db_url), "hashinsight.engine": engine}, environ={})

    def boom(request):
        raise RuntimeError("kaput")

    config.add_route("test.boom", "/boom")
    config.add_route("test.api_boom", "/api/v1/boom")
    config.add_view(boom, route_name="test.boom", permission="core:home:view")
    config.add_view(boom, route_name="test.api_boom", permission="core:home:view")
    client = TestApp(config.make_wsgi_app())
    page = client.get("/boom", status=500)
    assert 'data-status="500"' in page.text and "kaput" not in page.text
    body = client.get("/api/v1/boom", status=500).json
    assert body["error"]["code"] == "server_error" and "kaput" not in body["error"]["message"]


def test_brand_from_settings_is_applied(make_app):
    app, _ = make_app(
        brand__name="Steppe Hosting",
        brand__primary_color="#00aa77",
        brand__support_email="help@steppe.example",
    )
    page = app.get("/")
    assert "Steppe Hosting" in page.text and "HashInsight" not in page.text
    assert "help@steppe.example" in page.text
    assert "--hi-accent:#00aa77" in app.get("/brand.css").text


def test_bad_brand_colour_stops_start_up(make_app):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="brand.primary_color"):
        make_app(brand__primary_color="orange;}body{display:none")


def test_security_headers(webtest):
    headers = webtest.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_view_raising_not_found_with_message_keeps_it(webtest, login_as):
    login_as("admin")
    error = webtest.get("/api/v1/hosting/sites/999", status=404).json["error"]
    assert error["message"] == "no such site"


def test_a_unique_constraint_race_is_a_409_not_a_500(db_url, engine):
    """Two requests can pass a service's uniqueness check together; the database decides."""
    from hashinsight_core.models import User

    config = make_config({**base_settings(db_url), "hashinsight.engine": engine}, environ={})

    def add_twice(request):
        for _ in range(2):
            request.dbsession.add(User(email="same@example.com", password_hash="x"))
            request.dbsession.flush()

    config.add_route("test.race", "/api/v1/race")
    config.add_route("test.race_page", "/race")
    config.add_view(add_twice, route_name="test.race", permission="core:home:view")
    config.add_view(add_twice, route_name="test.race_page", permission="core:home:view")
    client = TestApp(config.make_wsgi_app())
    body = client.get("/api/v1/race", status=409).json
    assert body["error"]["code"] == "conflict"
    login(client, engine, "viewer")  # the themed page reads the user from the database
    assert 'data-status="409"' in client.get("/race", status=409).text
    with engine.connect() as conn:
        emails = conn.scalars(sa.select(User.email)).all()
    assert "same@example.com" not in emails
