"""The ASIC catalogue through the app: JSON API, admin pages, CSV import/export, audit."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from hashinsight_core.audit.models import AuditEvent
from plugins.calculator import catalogue
from plugins.calculator.models import AsicModel, AsicPowerMode
from tests.conftest import api_headers, csrf_token

API = "/api/v1/calculator/models"
S21 = {
    "vendor": "Bitmain",
    "model": "Antminer S21",
    "hashrate_ths": 200,
    "power_w": 3500,
    "cooling": "air",
    "release_year": 2024,
    "source": "https://viabtc.com/blog/en/268",
}


@pytest.fixture
def empty(dbsession):
    """No models, whatever ran before (the migration seeds the first test's database)."""
    dbsession.execute(sa.delete(AsicPowerMode))
    dbsession.execute(sa.delete(AsicModel))
    dbsession.commit_now()
    return dbsession


@pytest.fixture
def seeded(empty):
    """The shipped catalogue, as the migration leaves it."""
    catalogue.seed(SimpleNamespace(dbsession=empty, audit=lambda *a, **k: None))
    empty.commit_now()
    return empty


def count_models(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(AsicModel))


def audit_events(engine, prefix="calculator:") -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(AuditEvent.tag, AuditEvent.subject_id, AuditEvent.payload)
            .where(AuditEvent.tag.like(prefix + "%"))
            .order_by(AuditEvent.seq)
        ).all()
    return [(tag, subject, json.loads(payload)) for tag, subject, payload in rows]


def create(webtest, body, status=201):
    return webtest.post_json(API, body, headers=api_headers(webtest), status=status)


# --- JSON API ------------------------------------------------------------------------------


def test_admin_adds_a_model_with_modes_and_the_write_is_audited(webtest, login_as, empty, engine):
    login_as("admin")
    body = {
        **S21,
        "power_modes": [
            {"name": "eco", "hashrate_ths": 180, "power_w": 2900},
            {"name": "normal", "hashrate_ths": 200, "power_w": 3500, "is_default": True},
        ],
    }
    created = create(webtest, body).json
    assert created["efficiency_j_per_th"] == 17.5  # 3500 W / 200 TH/s
    assert created["is_active"] is True and created["source"] == S21["source"]
    modes = {m["name"]: m for m in created["power_modes"]}
    assert modes["eco"]["efficiency_j_per_th"] == round(2900 / 180, 2) == 16.11
    assert [m["is_default"] for m in created["power_modes"]] == [False, True]

    fetched = webtest.get(f"{API}/{created['id']}").json
    assert fetched == created
    [(tag, subject, payload)] = audit_events(engine)
    assert (tag, subject) == ("calculator:asic_model:create", str(created["id"]))
    assert payload["via"] == "api" and payload["power_w"] == 3500
    assert len(payload["power_modes"]) == 2


@pytest.mark.parametrize(
    ("twin", "status"),
    [
        ({"vendor": "Bitmain", "model": "Antminer S21"}, 409),
        ({"vendor": "BITMAIN", "model": "antminer  s21"}, 409),  # case and spacing
    ],
)
def test_a_duplicate_vendor_and_model_is_a_409_and_nothing_is_stored(
    webtest, login_as, empty, engine, twin, status
):
    login_as("admin")
    create(webtest, S21)
    error = create(webtest, {**S21, **twin, "hashrate_ths": 1}, status=status).json["error"]
    assert error["code"] == "conflict"
    assert "Bitmain Antminer S21 is already in the catalogue" in error["message"]
    assert count_models(engine) == 1
    assert [t for t, _, _ in audit_events(engine)] == ["calculator:asic_model:create"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"hashrate_ths": -5}, 400, "hashrate_ths"),
        ({"hashrate_ths": 0}, 400, "hashrate_ths"),
        ({"power_w": 0}, 400, "power_w"),
        ({"hashrate_ths": 5e9}, 400, "hashrate_ths"),  # a farm typed as one machine
        ({"power_w": 3.5}, 422, "power_w"),  # kW typed as W: 0.0175 J/TH
        ({"hashrate_ths": 200_000}, 400, "hashrate_ths"),
        ({"cooling": "water"}, 400, "cooling"),
        ({"release_year": 1999}, 422, "release_year"),
        ({"vendor": "   "}, 422, "vendor"),
        ({"model": "S21\x07"}, 422, "model"),
        ({"colour": "red"}, 400, "colour"),
        (
            {
                "power_modes": [
                    {"name": "a", "hashrate_ths": 1, "power_w": 30, "is_default": True},
                    {"name": "b", "hashrate_ths": 2, "power_w": 60, "is_default": True},
                ]
            },
            422,
            "power_modes[1].is_default",
        ),
        (
            {"power_modes": [{"name": "eco:1", "hashrate_ths": 1, "power_w": 30}]},
            422,
            "power_modes[0].name",
        ),
        (
            {
                "power_modes": [
                    {"name": "Eco", "hashrate_ths": 1, "power_w": 30},
                    {"name": "eco", "hashrate_ths": 2, "power_w": 60},
                ]
            },
            422,
            "power_modes[1].name",
        ),
        ({"power_modes": [{"name": "x", "hashrate_ths": 1, "power_w": -1}]}, 400, "power_w"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    webtest, login_as, empty, engine, change, status, field
):
    login_as("admin")
    error = create(webtest, {**S21, **change}, status=status).json["error"]
    assert field in error["message"] or field in json.dumps(error.get("details", []))
    assert count_models(engine) == 0
    assert audit_events(engine) == []


@pytest.mark.parametrize("number", ["NaN", "Infinity"])
def test_nan_and_infinity_are_refused_although_json_readers_accept_them(
    webtest, login_as, empty, engine, number
):
    login_as("admin")
    body = json.dumps(S21).replace('"power_w": 3500', f'"power_w": {number}')
    response = webtest.post(
        API,
        body,
        headers={**api_headers(webtest), "Content-Type": "application/json"},
        status="*",
    )
    assert response.status_int in (400, 422)
    assert "power_w" in response.json["error"]["message"]
    assert count_models(engine) == 0


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("operator", 403), ("viewer", 403)])
def test_only_catalogue_managers_write(webtest, login_as, empty, engine, role, status):
    if role:
        login_as(role)
    create(webtest, S21, status=status)
    assert count_models(engine) == 0


def test_owner_may_manage_the_catalogue_too(webtest, login_as, empty):
    login_as("owner")
    create(webtest, S21)


def test_update_changes_only_what_is_sent_and_records_old_and_new(webtest, login_as, empty, engine):
    login_as("admin")
    body = {**S21, "power_modes": [{"name": "eco", "hashrate_ths": 180, "power_w": 2900}]}
    model_id = create(webtest, body).json["id"]
    mode_id = webtest.get(f"{API}/{model_id}").json["power_modes"][0]["id"]
    patched = webtest.patch_json(
        f"{API}/{model_id}", {"power_w": 3600}, headers=api_headers(webtest)
    ).json
    assert patched["power_w"] == 3600 and patched["hashrate_ths"] == 200
    assert patched["efficiency_j_per_th"] == 18.0  # 3600 / 200
    assert patched["power_modes"][0]["id"] == mode_id  # modes untouched when not sent
    tag, subject, payload = audit_events(engine)[-1]
    assert (tag, subject) == ("calculator:asic_model:update", str(model_id))
    assert payload["changes"] == {"power_w": [3500.0, 3600.0]}

    # The same values again: nothing to save, nothing audited.
    webtest.patch_json(f"{API}/{model_id}", {"power_w": 3600}, headers=api_headers(webtest))
    assert len(audit_events(engine)) == 2

    # A mode edited by name keeps its id; one left out is removed.
    modes = [
        {"name": "ECO", "hashrate_ths": 170, "power_w": 2800},
        {"name": "turbo", "hashrate_ths": 230, "power_w": 4300, "is_default": True},
    ]
    patched = webtest.patch_json(
        f"{API}/{model_id}", {"power_modes": modes}, headers=api_headers(webtest)
    ).json
    by_name = {m["name"]: m for m in patched["power_modes"]}
    assert by_name["ECO"]["id"] == mode_id and by_name["ECO"]["power_w"] == 2800
    assert by_name["turbo"]["is_default"] is True


def test_renaming_onto_another_model_is_a_409(webtest, login_as, empty, engine):
    login_as("admin")
    create(webtest, S21)
    other = create(webtest, {**S21, "model": "Antminer S21 Pro"}).json["id"]
    webtest.patch_json(
        f"{API}/{other}",
        {"model": "antminer s21"},
        headers=api_headers(webtest),
        status=409,
    )
    assert webtest.get(f"{API}/{other}").json["model"] == "Antminer S21 Pro"


def test_deactivated_models_leave_the_calculator_but_stay_for_admins(
    webtest, login_as, empty, engine
):
    login_as("admin")
    model_id = create(webtest, S21).json["id"]
    keep = create(
        webtest, {**S21, "model": "Antminer S21 XP", "power_w": 3645, "hashrate_ths": 270}
    )
    webtest.patch_json(f"{API}/{model_id}", {"is_active": False}, headers=api_headers(webtest))
    assert audit_events(engine)[-1][0] == "calculator:asic_model:deactivate"
    assert webtest.get(f"{API}/{model_id}").json["is_active"] is False  # admins still see it
    assert webtest.get(API, {"status": "inactive"}).json["total"] == 1

    webtest.post("/logout/", {"csrf_token": csrf_token(webtest)})
    webtest.get(f"{API}/{model_id}", status=404)
    listing = webtest.get(API).json
    assert [m["id"] for m in listing["items"]] == [keep.json["id"]]
    webtest.get(API, {"status": "all"}, status=401)
    options = webtest.get("/calculator/").html.find("select", id="model").find_all("option")
    assert [o["value"] for o in options[1:]] == [str(keep.json["id"])]


def test_search_filters_and_pages_the_seeded_catalogue(webtest, seeded):
    found = webtest.get(API, {"q": "s21 xp", "limit": 200}).json
    names = {m["model"] for m in found["items"]}
    assert names == {"Antminer S21 XP", "Antminer S21 XP Hyd", "Antminer S21 XP Immersion"}
    hydro = webtest.get(API, {"cooling": "hydro", "limit": 200}).json["items"]
    assert hydro and {m["cooling"] for m in hydro} == {"hydro"}
    canaan = webtest.get(API, {"vendor": "canaan", "limit": 200}).json["items"]
    assert {m["vendor"] for m in canaan} == {"Canaan"} and len(canaan) >= 8
    best = webtest.get(API, {"sort": "efficiency", "limit": 3}).json["items"]
    ratios = [m["power_w"] / m["hashrate_ths"] for m in best]
    assert ratios == sorted(ratios)
    everything = webtest.get(API, {"sort": "efficiency", "limit": 200}).json["items"]
    assert ratios[0] == min(m["power_w"] / m["hashrate_ths"] for m in everything)
    # Paging: two pages of 20 together hold 40 distinct models or all of them.
    first = webtest.get(API, {"limit": 20}).json
    second = webtest.get(API, {"limit": 20, "offset": 20}).json
    ids = [m["id"] for m in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == min(40, first["total"])
    # "%" and "_" are searched as themselves, not as wildcards.
    assert webtest.get(API, {"q": "%"}).json["total"] == 0
    assert webtest.get(API, {"q": "_"}).json["total"] == 0


# --- admin pages ---------------------------------------------------------------------------


def test_menu_and_admin_pages_are_for_catalogue_managers_only(webtest, login_as, empty):
    webtest.get("/calculator/models/", status=302)  # visitors are sent to log in
    login_as("operator")
    assert 'data-route="calculator.model.list"' not in webtest.get("/calculator/").text
    webtest.get("/calculator/models/", status=403)
    webtest.get("/calculator/models/export.csv", status=403)
    login_as("admin")
    assert 'data-route="calculator.model.list"' in webtest.get("/calculator/").text
    webtest.get("/calculator/models/", status=200)
    new = webtest.get("/calculator/models/new/")
    assert new.html.find("form", attrs={"data-testid": "model-form"}).find(id="vendor")
    page = webtest.get("/calculator/models/import/")
    seed_text = page.html.find("form", attrs={"data-testid": "seed-form"}).find_previous("p")
    assert f"{len(catalogue.load_seed_specs())} SHA-256 models" in seed_text.get_text()
    webtest.get("/calculator/models/999999/", status=404)


def form_fields(**values) -> dict:
    fields = {
        "vendor": "",
        "model": "",
        "hashrate_ths": "",
        "power_w": "",
        "cooling": "air",
        "release_year": "",
        "source": "",
        "notes": "",
    }
    for index in range(3):
        for key in ("name", "hashrate_ths", "power_w"):
            fields[f"mode-{index}-{key}"] = ""
    fields.update(values)
    return fields


def test_admin_adds_edits_and_deactivates_a_model_in_the_pages(webtest, login_as, empty, engine):
    login_as("admin")
    fields = form_fields(
        vendor="MicroBT",
        model="Whatsminer M60S",
        hashrate_ths="186",
        power_w="3,441",
        release_year="2024",
        source="https://www.whatsminer.com",
        **{"mode-1-name": "eco", "mode-1-hashrate_ths": "160", "mode-1-power_w": "2800"},
    )
    response = webtest.post(
        "/calculator/models/new/", {**fields, "csrf_token": csrf_token(webtest)}
    )
    assert response.status_int == 303
    page = response.follow()
    assert page.html.find(attrs={"data-testid": "efficiency"}).get_text() == "18.50"  # 3441/186
    assert page.html.find(id="power_w")["value"] == "3441"
    assert page.html.find("input", attrs={"name": "mode-0-name"})["value"] == "eco"
    model = webtest.get(API).json["items"][0]

    # Edit: a second mode as the default, and the first one removed.
    edit = form_fields(
        **{
            k: page.html.find(id=k)["value"] for k in ("vendor", "model", "hashrate_ths", "power_w")
        },
        **{"mode-0-name": "eco", "mode-0-hashrate_ths": "160", "mode-0-power_w": "2800"},
        **{"mode-0-remove": "1"},
        **{"mode-1-name": "normal", "mode-1-hashrate_ths": "186", "mode-1-power_w": "3441"},
        default_mode="1",
    )
    url = f"/calculator/models/{model['id']}/"
    webtest.post(url, {**edit, "csrf_token": csrf_token(webtest)}, status=303)
    saved = webtest.get(f"{API}/{model['id']}").json
    assert [(m["name"], m["is_default"]) for m in saved["power_modes"]] == [("normal", True)]

    webtest.post(f"{url}status/", {"active": "0", "csrf_token": csrf_token(webtest)}, status=303)
    assert webtest.get(f"{API}/{model['id']}").json["is_active"] is False
    tags = [t for t, _, _ in audit_events(engine)]
    assert tags == [
        "calculator:asic_model:create",
        "calculator:asic_model:update",
        "calculator:asic_model:deactivate",
    ]


def test_a_bad_form_shows_the_field_keeps_the_typing_and_stores_nothing(
    webtest, login_as, empty, engine
):
    login_as("admin")
    fields = form_fields(
        vendor="Canaan",
        model="Avalon A1566",
        hashrate_ths="185",
        power_w="3420",
        **{"mode-2-name": "turbo", "mode-2-hashrate_ths": "200", "mode-2-power_w": "-1"},
    )
    page = webtest.post(
        "/calculator/models/new/", {**fields, "csrf_token": csrf_token(webtest)}, status=422
    )
    assert "mode 3 power_w must be greater than 0" in page.text
    bad = page.html.find("input", attrs={"name": "mode-2-power_w"})
    assert "is-invalid" in bad["class"] and bad["value"] == "-1"
    assert page.html.find(id="model")["value"] == "Avalon A1566"
    page = webtest.post(
        "/calculator/models/new/",
        {
            **form_fields(vendor="Canaan", model="X", hashrate_ths="abc", power_w="1"),
            "csrf_token": csrf_token(webtest),
        },
        status=422,
    )
    assert "is-invalid" in page.html.find(id="hashrate_ths")["class"]
    assert count_models(engine) == 0


def test_the_list_page_searches_filters_and_pages(webtest, login_as, seeded):
    login_as("admin")
    page = webtest.get("/calculator/models/")
    total = int(page.html.find(attrs={"data-testid": "model-count"}).get_text().split()[-1])
    assert total == len(catalogue.load_seed_specs())
    assert len(page.html.select("tbody tr[data-model-id]")) == 25
    assert page.html.find(attrs={"data-testid": "page"}).get_text() == "1 / 2"
    second = page.click(linkid=None, href=r"page=2")
    assert len(second.html.select("tbody tr[data-model-id]")) == total - 25

    page = webtest.get("/calculator/models/", {"q": "whatsminer", "cooling": "immersion"})
    models = [row.find_all("td")[1].get_text(strip=True) for row in page.html.select("tbody tr")]
    assert models and all("Whatsminer" in m for m in models)
    assert "Whatsminer M56S++" in models and "Whatsminer M60S" not in models  # M60S is air
    # Nonsense filters fall back to the defaults rather than failing.
    webtest.get("/calculator/models/", {"status": "deleted", "sort": "x", "page": "-4"}, status=200)


# --- CSV -----------------------------------------------------------------------------------


def upload(webtest, content: bytes, update_existing=False, status=200):
    fields = {"csrf_token": csrf_token(webtest)}
    if update_existing:
        fields["update_existing"] = "1"
    return webtest.post(
        "/calculator/models/import/",
        fields,
        upload_files=[("file", "models.csv", content)],
        status=status,
    )


def report_counts(page) -> dict:
    return {
        span["data-count"]: int(span.get_text())
        for span in page.html.select("[data-testid=report] [data-count]")
    }


def test_export_then_import_round_trips_and_updates_only_on_request(
    webtest, login_as, seeded, engine
):
    login_as("admin")
    exported = webtest.get("/calculator/models/export.csv")
    assert exported.content_type == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    assert catalogue.read_csv(exported.body) == [
        catalogue.spec_of(m) for m in seeded.scalars(catalogue.query_models(status="all"))
    ]

    # Unchanged file: nothing to do.
    page = upload(webtest, exported.body, update_existing=True)
    assert report_counts(page) == {
        "created": 0,
        "updated": 0,
        "unchanged": len(catalogue.load_seed_specs()),
        "skipped": 0,
    }
    # One figure changed and one model added: without "update", the change is skipped.
    text = exported.body.decode("utf-8-sig")
    changed = text.replace("Antminer S21 XP,270,3645", "Antminer S21 XP,270,3700")
    assert changed != text
    changed += "Acme,Miner 1,100,2000,air,,true,,,\r\n"
    page = upload(webtest, changed.encode())
    counts = report_counts(page)
    assert (counts["created"], counts["updated"], counts["skipped"]) == (
        1,
        0,
        len(text.splitlines()) - 1,
    )
    page = upload(webtest, changed.encode(), update_existing=True)
    assert (report_counts(page)["created"], report_counts(page)["updated"]) == (0, 1)
    s21xp = webtest.get(API, {"q": "s21 xp", "sort": "efficiency", "limit": 1}).json
    assert (
        webtest.get(API, {"q": "antminer s21 xp", "cooling": "air"}).json["items"][0]["power_w"]
        == 3700
    )
    assert s21xp["total"] == 3
    tags = [t for t, _, _ in audit_events(engine)]
    assert tags.count("calculator:asic_model:import") == 3
    assert tags.count("calculator:asic_model:create") == 1
    assert tags.count("calculator:asic_model:update") == 1


def test_a_file_with_one_bad_row_imports_nothing_and_names_row_and_column(
    webtest, login_as, empty, engine
):
    login_as("admin")
    content = (
        b"vendor,model,hashrate_ths,power_w,cooling\n"
        b"Bitmain,Antminer S19,95,3250,air\n"
        b"Bitmain,Antminer S19 Pro,110,NaN,air\n"
        b"Bitmain,Antminer S21,200,3500,liquid\n"
        b"bitmain,antminer s19,95,3250,air\n"
    )
    page = upload(webtest, content, status=422)
    problems = [
        [td.get_text(strip=True) for td in row.find_all("td")]
        for row in page.html.select("[data-testid=problems] tbody tr")
    ]
    assert problems == [
        ["3", "power_w", "power_w must be a finite number (not NaN or infinity)"],
        ["4", "cooling", "cooling must be one of air, hydro, immersion (got 'liquid')"],
        ["5", "model", "bitmain antminer s19 is already on row 2"],
    ]
    assert count_models(engine) == 0  # row 2 was fine, and is not stored either
    assert audit_events(engine) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"vendor;model;hashrate_ths;power_w;cooling\n", "separated by commas, not semicolons"),
        (b"vendor,model,hashrate_ths,power_w\nA,B,1,30\n", "column 'cooling' is missing"),
        (
            b"vendor,model,hashrate_ths,power_w,cooling,efficiency\nA,B,1,30,air,30\n",
            "unknown column 'efficiency'",
        ),
        (b"vendor,model,hashrate_ths,power_w,cooling\nA,B,1,30\n", "expected 5 values, found 4"),
        (b"vendor,model,hashrate_ths,power_w,cooling\n", "no models, only the header"),
        (b"PK\x03\x04 a zip file", "save it as 'CSV UTF-8'"),
        (b"vendor,model,hashrate_ths,power_w,cooling\nA,\xff,1,30,air\n", "not UTF-8"),
        (b'vendor,model,hashrate_ths,power_w,cooling\nA,"B\n', "malformed"),
    ],
)
def test_malformed_files_get_a_clear_message(webtest, login_as, empty, engine, content, message):
    login_as("admin")
    page = upload(webtest, content, status=422)
    assert message in page.html.find(attrs={"data-testid": "error"}).get_text(" ", strip=True)
    assert count_models(engine) == 0


def test_huge_files_and_too_many_rows_are_refused(webtest, login_as, empty, engine):
    login_as("admin")
    header = "vendor,model,hashrate_ths,power_w,cooling\n"
    huge = (header + "A,B,1,30,air," + "x" * catalogue.MAX_CSV_BYTES).encode()
    page = upload(webtest, huge, status=422)
    assert "the limit is 1,048,576 bytes" in page.text
    rows = "".join(f"A,Model {i},100,3000,air\n" for i in range(catalogue.MAX_CSV_ROWS + 1))
    page = upload(webtest, (header + rows).encode(), status=422)
    assert f"more than {catalogue.MAX_CSV_ROWS:,} models" in page.text
    assert count_models(engine) == 0


def test_seed_adds_missing_models_once_and_reset_restores_only_shipped_ones(
    webtest, login_as, seeded, engine
):
    login_as("admin")
    shipped = len(catalogue.load_seed_specs())
    s19 = webtest.get(API, {"q": "antminer s19 pro"}).json["items"]
    s19 = next(m for m in s19 if m["model"] == "Antminer S19 Pro")
    webtest.patch_json(f"{API}/{s19['id']}", {"power_w": 3333}, headers=api_headers(webtest))
    mine = create(webtest, {**S21, "vendor": "Acme", "model": "Private 1"}).json
    seeded.execute(sa.delete(AsicModel).where(AsicModel.model == "Antminer T19"))
    seeded.commit_now()

    page = webtest.post("/calculator/models/seed/", {"csrf_token": csrf_token(webtest)})
    assert report_counts(page)["created"] == 1  # only the T19 was missing
    assert webtest.get(f"{API}/{s19['id']}").json["power_w"] == 3333  # the edit is kept
    page = webtest.post("/calculator/models/seed/", {"csrf_token": csrf_token(webtest)})
    assert report_counts(page)["created"] == 0
    assert count_models(engine) == shipped + 1

    page = webtest.post(
        "/calculator/models/seed/", {"reset": "1", "csrf_token": csrf_token(webtest)}
    )
    assert report_counts(page)["updated"] == 1
    assert webtest.get(f"{API}/{s19['id']}").json["power_w"] == 3250
    assert webtest.get(f"{API}/{mine['id']}").json["power_w"] == 3500


def test_every_catalogue_write_needs_the_csrf_token(webtest, login_as, seeded, engine):
    login_as("admin")
    model_id = webtest.get(API).json["items"][0]["id"]
    before = count_models(engine)
    for method, path in (
        ("POST", API),
        ("PATCH", f"{API}/{model_id}"),
        ("POST", "/calculator/models/new/"),
        ("POST", f"/calculator/models/{model_id}/"),
        ("POST", f"/calculator/models/{model_id}/status/"),
        ("POST", "/calculator/models/import/"),
        ("POST", "/calculator/models/seed/"),
    ):
        body = json.dumps({**S21, "model": "Sneaky", "is_active": False}).encode()
        response = webtest.request(
            path,
            method=method,
            body=body,
            headers={"Content-Type": "application/json"},
            status="*",
        )
        assert response.status_int == 400, (method, path, response.status)
    assert count_models(engine) == before
    assert webtest.get(f"{API}/{model_id}").json["is_active"] is True
    assert audit_events(engine) == []
