"""Quick search: ranking, grouping, ABAC scoping, the IP rule, the index kept in sync, the API
and the page without JavaScript.

The farm: customers A and B; site S1 (credentials masked) holds A's miners in rack R12, site
S2 (credentials encrypted) holds B's. A customer of A must never find B's miner, not even by
its exact serial or MAC; an operator limited to S1 never finds S2's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core.models import Customer, Membership, User
from plugins.hosting.models import Miner, Rack, Site, Zone
from tests.conftest import login

SERIAL = "HTM1A2B3C4"
FOREIGN_SERIAL = "SECRETB0001"
FOREIGN_MAC = "bb:bb:bb:00:00:01"


@dataclass
class Farm:
    a: int
    b: int
    s1: int
    s2: int
    exact: int
    prefix: int
    inside: int
    foreign: int


@pytest.fixture
def farm(dbsession) -> Farm:
    a = Customer(name="Acme Mining", contact_email="ops@acme.example", contact_name="Ann")
    b = Customer(name="Borealis Hash", contact_email="it@borealis.example")
    s1 = Site(name="Site One", location="Texas", credential_mode="masked")
    s2 = Site(name="Site Two", location="Quebec", credential_mode="encrypted")
    dbsession.add_all([a, b, s1, s2])
    dbsession.flush()
    z1, z2 = Zone(site_id=s1.id, name="Hall 1"), Zone(site_id=s2.id, name="Hall 2")
    dbsession.add_all([z1, z2])
    dbsession.flush()
    rack = Rack(site_id=s1.id, zone_id=z1.id, name="R12", rows=5, slots=10)
    dbsession.add(rack)
    dbsession.flush()

    def miner(serial, customer, site, zone, **extra):
        m = Miner(
            serial=serial,
            customer_id=customer.id,
            site_id=site.id,
            zone_id=zone.id,
            model_name="Antminer S19",
            **extra,
        )
        dbsession.add(m)
        dbsession.flush()
        return m.id

    farm = Farm(
        a=a.id,
        b=b.id,
        s1=s1.id,
        s2=s2.id,
        exact=miner(
            SERIAL,
            a,
            s1,
            z1,
            mac="aa:bb:cc:00:00:01",
            pool_worker="acme.001",
            ip="10.0.3.7",
            rack_id=rack.id,
            rack_row=3,
            rack_slot=7,
        ),
        prefix=miner(SERIAL + "X", a, s1, z1, pool_worker="acme.002"),
        inside=miner("ZZ" + SERIAL, a, s1, z1, pool_worker="acme.003"),
        foreign=miner(FOREIGN_SERIAL, b, s2, z2, mac=FOREIGN_MAC, ip="10.0.9.9"),
    )
    dbsession.commit_now()
    return farm


def client(make_app, engine, role, customer_id=None, sites=()):
    app, _registry = make_app()
    browser = TestApp(app.app, extra_environ=app.extra_environ)
    email = login(browser, engine, role, customer_id=customer_id)
    if sites:
        with sa.orm.Session(engine) as session:
            user_id = session.scalar(sa.select(User.id).where(User.email == email))
            session.add_all([Membership(user_id=user_id, site_id=s) for s in sites])
            session.commit()
    return browser


def search(browser, q, limit=None, status=200):
    params = {"q": q} if limit is None else {"q": q, "limit": limit}
    return browser.get("/api/v1/search", params, status=status).json


def group(answer, kind):
    return next((g for g in answer["groups"] if g["kind"] == kind), None)


def miner_ids(answer):
    found = group(answer, "miner")
    return [int(h["url"].rstrip("/").rsplit("/", 1)[1]) for h in found["hits"]] if found else []


# --- ranking ----------------------------------------------------------------------------------


def test_exact_serial_first_then_prefix_then_inside(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    answer = search(owner, SERIAL.lower())
    assert miner_ids(answer) == [farm.exact, farm.prefix, farm.inside]
    hits = group(answer, "miner")["hits"]
    assert [h["rank"] for h in hits] == [0, 2, 4]
    assert hits[0]["title"] == SERIAL
    assert hits[0]["matched"] == "serial"
    assert "Site One" in hits[0]["subtitle"] and "R12/3/7" in hits[0]["subtitle"]
    assert answer["groups"][0]["kind"] == "miner"  # the group with the best hit comes first


def test_mac_in_any_spelling_worker_and_position(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    for q in ("AABBCC000001", "aa-bb-cc-00-00-01", "aa:bb:cc:00:00:01"):
        hits = group(search(owner, q), "miner")["hits"]
        assert (hits[0]["id"], hits[0]["rank"], hits[0]["matched"]) == (farm.exact, 0, "MAC"), q
    hits = group(search(owner, "ACME.002"), "miner")["hits"]
    assert (hits[0]["id"], hits[0]["rank"], hits[0]["matched"]) == (farm.prefix, 1, "worker")
    hits = group(search(owner, "r12/3/7"), "miner")["hits"]
    assert [(h["id"], h["rank"], h["matched"]) for h in hits] == [(farm.exact, 1, "position")]
    assert miner_ids(search(owner, "R12 / 3")) == [farm.exact]
    assert miner_ids(search(owner, "R12/4/7")) == []


def test_limit_per_group_and_more(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    group_ = group(search(owner, "acme.00", limit=2), "miner")
    assert len(group_["hits"]) == 2 and group_["more"] is True
    assert group_["more_url"] == "/hosting/miners/?q=acme.00"
    assert group(search(owner, "acme.00", limit=3), "miner")["more"] is False
    # Model names fill up after identifier hits, by serial, ranked "inside".
    models = group(search(owner, "antminer s19", limit=2), "miner")
    assert [(h["rank"], h["matched"]) for h in models["hits"]] == [(4, "model")] * 2
    assert [h["title"] for h in models["hits"]] == sorted([SERIAL, SERIAL + "X"])
    assert models["more"] is True
    mixed = group(search(owner, "acme.001 "), "miner")["hits"]  # spaces are trimmed
    assert [h["id"] for h in mixed] == [farm.exact]


def test_wildcards_are_literal(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    assert search(owner, "HTM%")["groups"] == []
    assert search(owner, "acme_001")["groups"] == []
    assert search(owner, "__")["groups"] == []


def test_two_letters_match_starts_only(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    assert set(miner_ids(search(owner, "ht"))) == {farm.exact, farm.prefix}  # not "ZZHTM…"


def test_sites_and_customers_groups(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    answer = search(owner, "site one")
    assert [h["title"] for h in group(answer, "site")["hits"]] == ["Site One"]
    assert group(answer, "site")["hits"][0]["rank"] == 1
    assert [h["title"] for h in group(search(owner, "quebec"), "site")["hits"]] == ["Site Two"]
    answer = search(owner, "borealis")
    hits = group(answer, "customer")["hits"]
    assert [h["title"] for h in hits] == ["Borealis Hash"]
    assert hits[0]["url"] == "/crm/customers/?q=Borealis+Hash"
    assert group(search(owner, "ops@acme.example"), "customer")["hits"][0]["rank"] == 0


# --- ABAC -------------------------------------------------------------------------------------


def test_customer_never_finds_another_customers_miner(make_app, engine, farm):
    customer = client(make_app, engine, "customer", customer_id=farm.a)
    for q in (FOREIGN_SERIAL, FOREIGN_SERIAL.lower(), "SECRETB", FOREIGN_MAC, "BBBBBB000001"):
        answer = search(customer, q)
        assert farm.foreign not in miner_ids(answer), q
        assert group(answer, "miner") is None, q
    page = customer.get("/search/", {"q": FOREIGN_SERIAL})
    assert page.html.select("[data-testid=search-hit]") == []
    assert f"/hosting/miners/{farm.foreign}/" not in page.text
    # Their own miners they do find; sites only where they have miners; no customer list.
    assert miner_ids(search(customer, SERIAL)) == [farm.exact, farm.prefix, farm.inside]
    assert search(customer, "Site Two")["groups"] == []
    assert [h["title"] for h in group(search(customer, "site"), "site")["hits"]] == ["Site One"]
    assert search(customer, "Borealis")["groups"] == []
    assert search(customer, "Acme Mining")["groups"] == []  # no CRM permission


def test_customer_of_b_does_not_find_a(make_app, engine, farm):
    customer = client(make_app, engine, "customer", customer_id=farm.b)
    assert search(customer, SERIAL)["groups"] == []
    assert miner_ids(search(customer, FOREIGN_SERIAL)) == [farm.foreign]


def test_site_limited_operator_finds_only_their_sites(make_app, engine, farm):
    operator = client(make_app, engine, "operator", sites=[farm.s1])
    assert group(search(operator, FOREIGN_SERIAL), "miner") is None
    assert search(operator, "Site Two")["groups"] == []
    assert miner_ids(search(operator, SERIAL))[0] == farm.exact


# --- IP: only with the permission, only at sites whose credentials are masked ---------------


def test_ip_only_where_masked_and_permitted(make_app, engine, farm):
    operator = client(make_app, engine, "operator")
    hits = group(search(operator, "10.0.3.7"), "miner")["hits"]
    assert [(h["id"], h["rank"], h["matched"]) for h in hits] == [(farm.exact, 0, "IP")]
    assert "10.0.3.7" in hits[0]["subtitle"]
    # S2 encrypts credentials: its miner's IP neither matches nor shows.
    assert search(operator, "10.0.9.9")["groups"] == []
    foreign = group(search(operator, FOREIGN_SERIAL), "miner")["hits"][0]
    assert "10.0.9.9" not in foreign["subtitle"]
    assert miner_ids(search(operator, "10.0.")) == [farm.exact]

    viewer = client(make_app, engine, "viewer")
    assert search(viewer, "10.0.3.7")["groups"] == []
    assert "10.0.3.7" not in group(search(viewer, SERIAL), "miner")["hits"][0]["subtitle"]
    customer = client(make_app, engine, "customer", customer_id=farm.a)
    assert search(customer, "10.0.3.7")["groups"] == []


# --- the index follows the miners -------------------------------------------------------------


def test_index_follows_inserts_updates_and_deletes(make_app, engine, dbsession, farm):
    owner = client(make_app, engine, "owner")
    miner = dbsession.get(Miner, farm.inside)
    miner.serial = "RENAMED77"
    miner.pool_worker = "moved.worker"
    dbsession.commit_now()
    assert miner_ids(search(owner, "renamed")) == [farm.inside]
    assert miner_ids(search(owner, "moved.wor")) == [farm.inside]
    assert farm.inside not in miner_ids(search(owner, SERIAL))
    assert search(owner, "acme.003")["groups"] == []
    dbsession.delete(dbsession.get(Miner, farm.inside))
    dbsession.commit_now()
    assert search(owner, "renamed")["groups"] == []


# --- tickets ----------------------------------------------------------------------------------


@pytest.fixture
def tickets(dbsession, farm):
    import datetime as dt

    from plugins.hosting.tickets.models import Ticket

    due = dt.datetime(2026, 12, 31)
    made = {}
    for side, customer, site, title in (
        ("a", farm.a, farm.s1, "Fan noise in hall 1"),
        ("b", farm.b, farm.s2, "Hashboard missing on SECRETB0001"),
    ):
        ticket = Ticket(
            title=title,
            customer_id=customer,
            site_id=site,
            response_due_at=due,
            resolution_due_at=due,
        )
        dbsession.add(ticket)
        dbsession.flush()
        made[side] = ticket.id
    dbsession.commit_now()
    return made


def test_tickets_by_number_and_title(make_app, engine, farm, tickets):
    owner = client(make_app, engine, "owner")
    number = f"T-{tickets['b']:06d}"
    for q in (number, number.lower(), f"T{tickets['b']}", f"#{tickets['b']}"):
        hits = group(search(owner, q), "ticket")["hits"]
        assert (hits[0]["id"], hits[0]["rank"]) == (tickets["b"], 0), q
        assert hits[0]["title"].startswith(number)
        assert hits[0]["url"] == f"/hosting/tickets/{tickets['b']}/"
    assert [h["id"] for h in group(search(owner, "fan noise"), "ticket")["hits"]] == [tickets["a"]]


def test_customer_never_finds_another_customers_ticket(make_app, engine, farm, tickets):
    customer = client(make_app, engine, "customer", customer_id=farm.a)
    assert search(customer, f"T-{tickets['b']:06d}")["groups"] == []
    assert group(search(customer, "hashboard"), "ticket") is None
    own = group(search(customer, f"T-{tickets['a']:06d}"), "ticket")["hits"]
    assert [h["id"] for h in own] == [tickets["a"]]


# --- API and page -----------------------------------------------------------------------------


def test_short_and_long_queries(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    assert search(owner, "H") == {"query": "H", "groups": [], "all_url": "/search/?q=H"}
    assert search(owner, "   ")["groups"] == []
    error = search(owner, "x" * 101, status=400)["error"]
    assert error["code"] == "bad_request" and "too long" in error["message"]
    assert search(owner, SERIAL, limit=0, status=400)["error"]["code"] == "invalid_request"
    assert search(owner, SERIAL, limit=51, status=400)["error"]["code"] == "invalid_request"
    page = owner.get("/search/", {"q": "x" * 101}, status=400)
    assert "too long" in page.text
    # Full-width characters (a Chinese keyboard) are searched as ASCII.
    assert miner_ids(search(owner, "ＨＴＭ１Ａ２Ｂ３Ｃ４"))[0] == farm.exact


def test_page_works_without_javascript(make_app, engine, farm):
    owner = client(make_app, engine, "owner")
    page = owner.get("/search/", {"q": SERIAL})
    hits = page.html.select("[data-testid=search-hit]")
    assert [a["href"] for a in hits[:3]] == [
        f"/hosting/miners/{farm.exact}/",
        f"/hosting/miners/{farm.prefix}/",
        f"/hosting/miners/{farm.inside}/",
    ]
    assert page.html.select_one("[data-testid=search-group-miner]") is not None
    empty = owner.get("/search/", {"q": "nothing-like-this"})
    assert empty.html.select_one("[data-testid=search-empty]") is not None
    # The header box is a plain GET form to this page, on every page of a signed-in account.
    form = owner.get("/").html.select_one("form[data-testid=search-form]")
    assert form["action"] == "/search/" and form["method"] == "get"


def test_anonymous_gets_no_box_and_no_answers(webtest, farm):
    assert webtest.get("/").html.select_one("form[data-testid=search-form]") is None
    assert webtest.get("/api/v1/search", {"q": SERIAL}, status=(401, 403)).json["error"]
    assert webtest.get("/search/", {"q": SERIAL}, status=(302, 303, 401, 403))


def test_search_is_in_the_api_document(webtest):
    document = webtest.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "limit"}
    assert "SearchResult" in document["components"]["schemas"]
