"""A Chinese reader gets the farm's errors in Chinese, with the values filled in.

The expected sentences are the catalog's translations (hashinsight_core/locale/zh) of the
messages the services raise; an English sentence or an unfilled ``${...}`` would fail here.
"""

import pytest

from tests.conftest import api_headers, csrf_token

DUPLICATE_SITE = "已有名为“Same”的场地"
NO_ZONE = "没有区域 999999"


@pytest.fixture
def zone_id(dbsession):
    from plugins.hosting.models import Site, Zone

    site = Site(name="Site A")
    dbsession.add(site)
    dbsession.flush()
    zone = Zone(site_id=site.id, name="Z1")
    dbsession.add(zone)
    dbsession.commit_now()
    return zone.id


def test_api_errors_are_in_chinese_with_the_values_filled_in(webtest, login_as, zone_id):
    login_as("admin")
    webtest.set_cookie("_LOCALE_", "zh")  # the account itself logged in speaking English
    headers = api_headers(webtest)
    webtest.post_json("/api/v1/hosting/sites", {"name": "Same"}, headers=headers, status=201)
    error = webtest.post_json(
        "/api/v1/hosting/sites", {"name": "Same"}, headers=headers, status=409
    ).json["error"]
    assert error["message"] == DUPLICATE_SITE
    assert error["details"] == [{"field": "name", "message": DUPLICATE_SITE}]

    rows = [
        {"serial": "OK1", "model": "S19", "zone_id": zone_id},
        {"serial": "BAD1", "model": "S19", "zone_id": 999999},
    ]
    batch = webtest.post_json(
        "/api/v1/hosting/miners/batch", {"miners": rows}, headers=headers, status=422
    ).json["error"]
    assert batch["details"] == [{"row": 2, "column": "zone_id", "message": NO_ZONE}]
    # The summary is one Chinese sentence: the row's problem inside it is translated too.
    assert batch["message"] == f"有 1 个问题，未保存任何内容：第 2 行，zone_id：{NO_ZONE}"
    assert "${" not in batch["message"] and "problem" not in batch["message"]

    # A rule with two problems: each is named and translated, in details and in the message.
    rule = webtest.post_json(
        "/api/v1/hosting/alert-rules",
        {"name": "x", "kind": "offline", "enabled": "yes", "email_to": "nobody"},
        headers=headers,
        status=422,
    ).json["error"]
    assert rule["details"] == [
        {"field": "enabled", "message": "必须是 true 或 false"},
        {"field": "email_to", "message": "“nobody”不是电子邮件地址"},
    ]
    assert rule["message"] == "enabled：必须是 true 或 false; email_to：“nobody”不是电子邮件地址"


def test_page_forms_show_chinese_errors_with_the_values_filled_in(webtest, login_as, zone_id):
    login_as("admin")
    webtest.set_cookie("_LOCALE_", "zh")
    token = csrf_token(webtest)
    webtest.post("/hosting/sites/", {"name": "Same", "csrf_token": token}, status=303)
    page = webtest.post("/hosting/sites/", {"name": "Same", "csrf_token": token}, status=409)
    assert page.html.select_one(".alert-danger").text.strip() == DUPLICATE_SITE

    sheet = "serial,model,zone_id\nX1,S19,999999\n"
    report = webtest.post(
        "/hosting/miners/import/",
        {"csrf_token": csrf_token(webtest)},
        upload_files=[("file", "miners.csv", sheet.encode())],
        status=422,
    )
    cells = [td.text for td in report.html.find(id="import-errors").find_all("td")]
    assert cells == ["2", "zone_id", NO_ZONE]
    assert "没有区域 999999" in report.html.select_one(".alert-danger").text
