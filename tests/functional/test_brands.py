"""White-label brands through the app: the host name chooses the brand (page title, footer,
colours, login page, mail), a customer always sees their own brand whatever host they use,
brand pages are for admins, uploads are checked, mail carries an HTML part in the brand's
look. See docs/white-label.md."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image
from webtest import TestApp

from hashinsight_core.audit.models import AuditEvent
from hashinsight_core.models import Customer
from hashinsight_core.tasks import run_in_request
from plugins.hosting.brands import brand_for_customer
from plugins.hosting.brands.models import Brand, BrandHost, BrandImage, CustomerBrand
from plugins.hosting.brands.resolve import normalize_host
from tests.conftest import csrf_token, login, make_user

DEPLOYMENT = "Deployment Default Co"


def png(size=(8, 8), color=(255, 0, 0)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def brands(dbsession):
    a = Brand(
        name="Alpha Hosting",
        slug="alpha",
        primary_color="#123456",
        background_color="#101010",
        support_email="help@alpha.example",
        support_phone="+1 555 0100",
        legal_footer="Alpha Hosting Ltd, Reg. 1111",
        mail_footer="Alpha mail footer",
    )
    b = Brand(
        name="Bravo Mining",
        slug="bravo",
        primary_color="#abcdef",
        background_color="#202020",
        support_email="help@bravo.example",
        legal_footer="Bravo Mining GmbH",
    )
    dbsession.add_all([a, b])
    dbsession.flush()
    dbsession.add_all(
        [BrandHost(brand_id=a.id, host="a.example"), BrandHost(brand_id=b.id, host="b.example")]
    )
    customer_a = Customer(name="Customer Of Alpha")
    customer_b = Customer(name="Customer Of Bravo")
    dbsession.add_all([customer_a, customer_b])
    dbsession.flush()
    dbsession.add(CustomerBrand(customer_id=customer_a.id, brand_id=a.id))
    dbsession.commit_now()
    return {"A": a.id, "B": b.id, "cA": customer_a.id, "cB": customer_b.id}


@pytest.fixture
def app(make_app):
    # No cache in these tests: rows arranged through the test session show at once.
    test_app, registry = make_app(brand__name=DEPLOYMENT, hosting__brands__cache_seconds="0")
    return test_app, registry


def on_host(app: TestApp, host: str) -> TestApp:
    return TestApp(app.app, extra_environ={"HTTP_HOST": host, "REMOTE_ADDR": "192.0.2.10"})


def shown(page) -> dict:
    html = page.html
    return {
        "title": html.title.text,
        "navbar": html.select_one("[data-testid=brand-name]").text.strip(),
        "footer": html.select_one("[data-testid=site-footer]").text,
    }


def test_normalize_host():
    assert normalize_host("Portal.Example.COM:8443") == "portal.example.com"
    assert normalize_host("a.example.") == "a.example"
    assert normalize_host("[::1]:6543") == "::1"
    assert normalize_host("") == ""


def test_the_host_name_chooses_the_brand(app, brands):
    test_app, _ = app
    for host, name, other, color in (
        ("a.example", "Alpha Hosting", "Bravo Mining", "#123456"),
        ("B.Example:8080", "Bravo Mining", "Alpha Hosting", "#abcdef"),
    ):
        client = on_host(test_app, host)
        page = client.get("/login/")
        seen = shown(page)
        assert seen["title"].endswith(f"· {name}")
        assert seen["navbar"] == name
        assert f"© {name}" in seen["footer"]
        assert name in page.html.select_one("[data-testid=login-brand]").text
        assert other not in page.text and DEPLOYMENT not in page.text
        css_link = page.html.select_one('link[href^="/brand.css"]')["href"]
        css = client.get(css_link)
        assert f"--hi-accent:{color}" in css.text
        assert "Host" in css.headers["Vary"] and "private" in css.headers["Cache-Control"]
    legal = on_host(test_app, "a.example").get("/login/").html
    assert legal.select_one("[data-testid=legal-footer]").text == "Alpha Hosting Ltd, Reg. 1111"
    assert "+1 555 0100" in legal.select_one("[data-testid=support-phone]").text
    # Each brand's CSS has its own URL, so a browser never keeps the other brand's colours.
    a_css = (
        on_host(test_app, "a.example").get("/login/").html.select_one('link[href^="/brand.css"]')
    )
    b_css = (
        on_host(test_app, "b.example").get("/login/").html.select_one('link[href^="/brand.css"]')
    )
    assert a_css["href"] != b_css["href"]


def test_an_unknown_host_gets_the_default(app, brands, dbsession):
    test_app, _ = app
    page = on_host(test_app, "unknown.example").get("/login/")
    assert shown(page)["navbar"] == DEPLOYMENT
    assert "Alpha Hosting" not in page.text and "Bravo Mining" not in page.text
    # With a brand marked default, unknown hosts show that one instead.
    dbsession.execute(sa.update(Brand).where(Brand.id == brands["B"]).values(is_default=True))
    dbsession.commit_now()
    page = on_host(test_app, "unknown.example").get("/login/")
    assert shown(page)["navbar"] == "Bravo Mining"
    assert DEPLOYMENT not in page.text


def test_x_forwarded_host_is_not_trusted(app, brands):
    test_app, _ = app
    client = on_host(test_app, "unknown.example")
    page = client.get("/login/", headers={"X-Forwarded-Host": "a.example"})
    assert "Alpha Hosting" not in page.text


def test_a_customer_sees_only_their_brand_on_any_host(app, brands, engine):
    test_app, _ = app
    client = on_host(test_app, "b.example")
    assert shown(client.get("/login/"))["navbar"] == "Bravo Mining"  # before signing in
    login(client, engine, "customer", customer_id=brands["cA"])
    for path in (
        "/portal/",
        "/portal/miners/",
        "/portal/settings/",
        "/account/",
        "/hosting/alerts/",
    ):
        page = client.get(path)
        assert page.status_int == 200, path
        seen = shown(page)
        assert seen["navbar"] == "Alpha Hosting", path
        assert "Bravo Mining" not in page.text, path
        assert "help@bravo.example" not in page.text, path
        assert DEPLOYMENT not in page.text, path
    css_link = client.get("/portal/").html.select_one('link[href^="/brand.css"]')["href"]
    assert "--hi-accent:#123456" in client.get(css_link).text
    # The home page of a customer is the portal.
    assert client.get("/").headers["Location"].endswith("/portal/")


def test_staff_on_a_brand_host_see_that_brand(app, brands, engine):
    test_app, _ = app
    client = on_host(test_app, "a.example")
    login(client, engine, "operator")
    assert shown(client.get("/hosting/alerts/"))["navbar"] == "Alpha Hosting"


@pytest.mark.parametrize("role", ["operator", "customer", "viewer"])
def test_brand_pages_are_for_admins(app, brands, engine, role):
    test_app, _ = app
    client = TestApp(test_app.app)
    login(client, engine, role, customer_id=brands["cA"] if role == "customer" else None)
    assert client.get("/hosting/brands/", status="*").status_int == 403
    assert client.get("/hosting/brands/new", status="*").status_int == 403
    token = csrf_token(client)
    response = client.post(
        "/hosting/brands/new", {"name": "Sneaky", "csrf_token": token}, status="*"
    )
    assert response.status_int == 403
    # Item pages: 403 for staff without the permission; for customers a brand is not theirs
    # (404, like any foreign object).
    item = client.get(f"/hosting/brands/{brands['A']}/", status="*").status_int
    assert item == (404 if role == "customer" else 403)
    upload = client.post(
        f"/hosting/brands/{brands['A']}/images",
        {"kind": "logo", "csrf_token": token},
        upload_files=[("file", "x.png", png())],
        status="*",
    )
    assert upload.status_int in (403, 404)


def admin_client(test_app, engine) -> TestApp:
    client = TestApp(test_app.app)
    login(client, engine, "admin")
    return client


def count(dbsession, model) -> int:
    dbsession.expire_all()
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


def test_admin_creates_and_edits_a_brand(make_app, engine, dbsession):
    # The real cache (30 s): an edit must show at once all the same.
    test_app, _ = make_app()
    client = admin_client(test_app, engine)
    token = csrf_token(client)
    form = {
        "name": "Charlie Compute",
        "primary_color": "#00AA77",
        "background_color": "#111111",
        "support_email": "help@charlie.example",
        "legal_footer": "Charlie Ltd",
        "csrf_token": token,
    }
    created = client.post("/hosting/brands/new", form)
    assert created.status_int == 303
    brand = dbsession.scalar(sa.select(Brand).where(Brand.name == "Charlie Compute"))
    assert brand.slug == "charlie-compute" and brand.primary_color == "#00aa77"
    edit = f"/hosting/brands/{brand.id}/"
    assert (
        client.post(
            edit + "hosts", {"host": "Portal.Charlie.Example:443", "csrf_token": token}
        ).status_int
        == 303
    )
    assert (
        dbsession.scalar(sa.select(BrandHost.host).where(BrandHost.brand_id == brand.id))
        == "portal.charlie.example"
    )
    visitor = on_host(test_app, "portal.charlie.example")
    assert shown(visitor.get("/login/"))["navbar"] == "Charlie Compute"
    # Rename: the cached brand is dropped at once.
    renamed = dict(form, name="Charlie Two")
    assert client.post(edit, renamed).status_int == 303
    assert shown(visitor.get("/login/"))["navbar"] == "Charlie Two"
    # Bad input: 4xx naming the problem, nothing changed.
    for bad, field in (
        ({"primary_color": "red;}body{display:none"}, "primary color"),
        ({"support_email": "nope"}, "e-mail"),
        ({"support_url": "javascript:alert(1)"}, "http"),
        ({"name": ""}, "name"),
    ):
        response = client.post(edit, dict(renamed, **bad), status="*")
        assert response.status_int == 422, bad
        assert field in response.html.select_one("[data-testid=error]").text
    dbsession.expire_all()
    assert dbsession.get(Brand, brand.id).name == "Charlie Two"
    assert dbsession.get(Brand, brand.id).primary_color == "#00aa77"
    for bad_host in ("http://x.example/path", "bad host", "-x.example"):
        assert (
            client.post(
                edit + "hosts", {"host": bad_host, "csrf_token": token}, status="*"
            ).status_int
            == 422
        )
    assert (
        client.post(
            edit + "hosts", {"host": "portal.charlie.example", "csrf_token": token}, status="*"
        ).status_int
        == 409
    )
    assert count(dbsession, BrandHost) == 1
    # A second brand with the same name is refused.
    assert (
        client.post("/hosting/brands/new", dict(form, name="Charlie Two"), status="*").status_int
        == 409
    )
    tags = set(dbsession.scalars(sa.select(AuditEvent.tag)))
    assert {"hosting:brand:create", "hosting:brand:update", "hosting:brand_host:add"} <= tags


def test_uploads_are_checked_and_served(app, brands, engine, dbsession):
    test_app, _ = app
    client = admin_client(test_app, engine)
    token = csrf_token(client)
    url = f"/hosting/brands/{brands['A']}/images"

    def upload(name, data, kind="logo"):
        return client.post(
            url,
            {"kind": kind, "csrf_token": token},
            upload_files=[("file", name, data)],
            status="*",
        )

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = [
        upload("logo.svg", svg),
        upload("logo.png", b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10),
        upload("logo.png", b"GIF89a" + b"\x00" * 100),
        upload("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024)),
        upload("icon.png", png(size=(300, 300)) + b"\x00" * (130 * 1024), kind="favicon"),
        upload("logo.png", png(), kind="banner"),
        upload("empty.png", b""),
    ]
    assert [r.status_int for r in refused] == [422] * len(refused)
    assert count(dbsession, BrandImage) == 0
    assert dbsession.get(Brand, brands["A"]).logo_digest is None

    data = png()
    assert upload("logo.png", data).status_int == 303
    dbsession.expire_all()
    digest = dbsession.get(Brand, brands["A"]).logo_digest
    served = on_host(test_app, "a.example").get(f"/brand-assets/{digest}")
    assert served.body == data and served.content_type == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    page = on_host(test_app, "a.example").get("/login/")
    assert page.html.select_one(f'img[src="/brand-assets/{digest}"]') is not None
    on_host(test_app, "a.example").get("/brand-assets/" + "0" * 64, status=404)
    # The favicon of the brand is the page icon and the answer to /favicon.ico.
    assert upload("icon.png", png((32, 32), (0, 255, 0)), kind="favicon").status_int == 303
    dbsession.expire_all()
    icon = dbsession.get(Brand, brands["A"]).favicon_digest
    page = on_host(test_app, "a.example").get("/login/")
    assert page.html.select_one('link[rel="icon"]')["href"] == f"/brand-assets/{icon}"
    assert on_host(test_app, "a.example").get("/favicon.ico").headers["Location"].endswith(icon)
    # Replacing the logo drops the old image when no brand uses it.
    assert upload("logo2.png", png(color=(0, 0, 255))).status_int == 303
    dbsession.expire_all()
    assert dbsession.get(BrandImage, digest) is None
    assert "hosting:brand_image:upload" in set(dbsession.scalars(sa.select(AuditEvent.tag)))


def test_customers_are_assigned_on_the_brand_page(app, brands, engine, dbsession):
    test_app, _ = app
    client = admin_client(test_app, engine)
    token = csrf_token(client)
    url = f"/hosting/brands/{brands['B']}/customers"
    assert (
        client.post(
            url, {"customer_id": [str(brands["cA"]), str(brands["cB"])], "csrf_token": token}
        ).status_int
        == 303
    )
    rows = dict(
        dbsession.execute(sa.select(CustomerBrand.customer_id, CustomerBrand.brand_id)).all()
    )
    assert rows == {brands["cA"]: brands["B"], brands["cB"]: brands["B"]}
    assert (
        client.post(url, {"customer_id": "999999", "csrf_token": token}, status="*").status_int
        == 422
    )
    assert (
        client.post(url, {"customer_id": str(brands["cB"]), "csrf_token": token}).status_int == 303
    )
    dbsession.expire_all()
    rows = dict(
        dbsession.execute(sa.select(CustomerBrand.customer_id, CustomerBrand.brand_id)).all()
    )
    assert rows == {brands["cB"]: brands["B"]}
    page = client.get(f"/hosting/brands/{brands['B']}/")
    # The page edits B, but its own look is the request's (here the deployment's).
    assert shown(page)["navbar"] == DEPLOYMENT
    assert page.html.select_one(f"#customer-{brands['cB']}").has_attr("checked")


def test_mail_carries_the_brand_and_an_html_part(app, brands, engine):
    test_app, registry = app
    outbox = registry["mailer"].outbox
    email, _ = make_user(engine, "operator")
    client = on_host(test_app, "a.example")
    client.post("/password/forgot/", {"email": email, "csrf_token": csrf_token(client)})
    assert len(outbox) == 1
    message = outbox[0]
    assert "Alpha Hosting" in message.body and "Alpha mail footer" in message.body
    assert "Bravo" not in message.body
    assert message.sender.startswith("Alpha Hosting <")
    html = message.html
    assert "background:#123456" in html  # the brand's colour bar
    assert "Alpha Hosting Ltd, Reg. 1111" in html and "help@alpha.example" in html
    assert "Bravo" not in html and DEPLOYMENT not in html
    assert '<a href="http' in html  # the reset link is clickable


def test_brand_for_customer_in_mail(app, brands):
    _, registry = app
    outbox = registry["mailer"].outbox

    def send(request):
        brand = brand_for_customer(request, brands["cA"])
        assert brand["name"] == "Alpha Hosting"
        # A customer without a brand gets the deployment's (no default brand row).
        assert brand_for_customer(request, brands["cB"])["name"] == DEPLOYMENT
        request.send_mail(
            "someone@example.com",
            "Hello",
            "hashinsight_core:templates/mail/reset.txt.jinja2",
            {
                "user": type("U", (), {"name": "O'Brien & Co", "email": "x"})(),
                "link": "https://a.example/x?a=1&b=2",
            },
            brand=brand,
        )

    run_in_request(registry, send)
    message = outbox[-1]
    assert "O'Brien & Co" in message.body  # plain text is not HTML-escaped
    assert "https://a.example/x?a=1&b=2" in message.body
    assert "O&#39;Brien &amp; Co" in message.html
    assert "background:#123456" in message.html


def test_mail_to_a_customer_carries_their_brand_on_any_host(app, brands, engine):
    test_app, registry = app
    outbox = registry["mailer"].outbox
    email, _ = make_user(engine, "customer", customer_id=brands["cA"])
    client = on_host(test_app, "b.example")  # B's address, A's customer
    client.post("/password/forgot/", {"email": email, "csrf_token": csrf_token(client)})
    message = outbox[-1]
    assert message.sender.startswith("Alpha Hosting <")
    assert "Alpha Hosting" in message.body and "Bravo" not in message.body
    assert "background:#123456" in message.html and "Bravo" not in message.html


def test_merge_brand_keeps_the_brand_texts_and_checks_colours():
    from hashinsight_core.settings import DEFAULTS
    from hashinsight_core.web import merge_brand

    settings = dict(DEFAULTS, **{"brand.legal_footer": "Deployment Ltd", "brand.logo": ""})
    merged = merge_brand(
        settings,
        {"name": "Alpha", "legal_footer": "", "primary_color": "red;}", "favicon": None},
    )
    assert merged["name"] == "Alpha"
    assert merged["legal_footer"] == ""  # never the deployment's footer under another name
    assert merged["primary_color"] == DEFAULTS["brand.primary_color"]
    assert merged["favicon"] is None
    assert merge_brand(settings, None)["legal_footer"] == "Deployment Ltd"
    assert merge_brand(settings, {"name": ""})["name"] == DEFAULTS["brand.name"]
