"""Market analysis: price indicators through the API and the page."""

import json

import pytest

from tests.conftest import api_headers, csrf_token

CLOSES = [1, 2, 3, 4, 5]


def test_viewer_gets_indicators_with_null_where_the_window_is_not_full(webtest, login_as):
    login_as("viewer")
    result = webtest.post_json(
        "/api/v1/intelligence/indicators",
        {"closes": CLOSES, "window": 3},
        headers=api_headers(webtest),
    ).json
    assert result["window"] == 3 and result["count"] == 5
    assert result["sma"] == [None, None, 2.0, 3.0, 4.0]
    assert result["ema"] == [None, None, 2.0, 3.0, 4.0]
    assert result["rsi"] == [None, None, None, 100.0, 100.0]  # only rising: 100
    width = 2 * (2 / 3) ** 0.5  # population deviation of three steps of 1
    assert result["bollinger_upper"][2] == pytest.approx(2 + width)
    assert result["bollinger_lower"][4] == pytest.approx(4 - width)


@pytest.mark.parametrize("role", ["admin", "operator", "viewer", "customer", "owner"])
def test_granted_roles_reach_the_page_and_the_api(webtest, login_as, role):
    login_as(role)
    assert 'data-route="intelligence.indicator.page"' in webtest.get("/intelligence/").text
    webtest.post_json(
        "/api/v1/intelligence/indicators",
        {"closes": CLOSES, "window": 2},
        headers=api_headers(webtest),
        status=200,
    )


def test_a_role_without_the_grant_gets_403(webtest, login_as):
    login_as("auditor")  # a custom role that holds no permission yet
    webtest.get("/intelligence/", status=403)
    error = webtest.post_json(
        "/api/v1/intelligence/indicators",
        {"closes": CLOSES, "window": 2},
        headers=api_headers(webtest),
        status=403,
    ).json
    assert error["error"]["code"] == "forbidden"


def test_anonymous_gets_401_json_and_the_page_asks_to_log_in(webtest):
    error = webtest.post_json(
        "/api/v1/intelligence/indicators",
        {"closes": CLOSES, "window": 2},
        headers=api_headers(webtest),
        status=401,
    ).json
    assert error["error"]["code"] == "unauthorized"
    page = webtest.get("/intelligence/", status=302)
    assert "/login/" in page.location
    assert 'data-route="intelligence.indicator.page"' not in webtest.get("/").text


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"closes": [1], "window": 2}, "closes"),
        ({"closes": list(range(10_001)), "window": 2}, "closes"),
        ({"closes": [1, 2, "3"], "window": 2}, "closes"),
        ({"closes": [1, 2, 3], "window": 1}, "window"),
        ({"closes": [1, 2, 3], "window": 366}, "window"),
        ({"closes": [1, 2, 3], "window": 2.5}, "window"),
        ({"closes": [1, 2, 3]}, "window"),
        ({"closes": [1, 2, 3], "window": 2, "period": 9}, "period"),
    ],
)
def test_api_refuses_bad_input_with_a_400_naming_the_field(webtest, login_as, body, words):
    login_as("viewer")
    error = webtest.post_json(
        "/api/v1/intelligence/indicators", body, headers=api_headers(webtest), status=400
    ).json["error"]
    assert error["code"] == "invalid_request"
    assert words in error["message"]


def test_api_window_longer_than_the_series_is_a_422(webtest, login_as):
    login_as("viewer")
    error = webtest.post_json(
        "/api/v1/intelligence/indicators",
        {"closes": [1, 2, 3], "window": 5},
        headers=api_headers(webtest),
        status=422,
    ).json["error"]
    assert error["message"] == "window (5) must not be longer than the number of closes (3)"


def test_page_shows_the_last_30_rows_and_hands_the_chart_its_data(webtest, login_as):
    login_as("operator")
    closes = "\n".join(f"{64_000 + 10 * i:,}" for i in range(40))  # "64,000" ... "64,390"
    page = webtest.post(
        "/intelligence/", {"closes": closes, "window": "3", "csrf_token": csrf_token(webtest)}
    )
    rows = page.html.find(attrs={"data-testid": "indicator-table"}).find("tbody").find_all("tr")
    assert len(rows) == 30
    newest = [td.get_text(strip=True) for td in rows[0].find_all("td")]
    # Newest first: close 64,390; SMA of 64,370..64,390 = 64,380; RSI 100 (only rises).
    assert newest[:5] == ["40", "64,390.00", "64,380.00", "64,380.00", "100.0"]
    data = json.loads(page.html.find("script", id="intelligence-data").string)
    assert data["close"][:2] == [64_000, 64_010] and len(data["labels"]) == 40
    assert data["sma"][:3] == [None, None, 64_010]
    for script in page.html.find_all("script"):
        assert script.get("src") or script.get("type") == "application/json"
    chart_js = next(
        s["src"] for s in page.html.find_all("script") if "intelligence.js" in s.get("src", "")
    )
    assert "intelligence-data" in webtest.get(chart_js).text
    assert " style=" not in page.text


def test_page_with_bad_prices_says_which_and_keeps_the_text(webtest, login_as):
    login_as("viewer")
    page = webtest.post(
        "/intelligence/",
        {"closes": "100\n101\ncheap\n", "window": "2", "csrf_token": csrf_token(webtest)},
        status=422,
    )
    assert "number 3" in page.text
    assert "cheap" in page.html.find("textarea", id="closes").text
    assert "is-invalid" in page.html.find("textarea", id="closes")["class"]
    page = webtest.post(
        "/intelligence/",
        {"closes": "1,2,3", "window": "seven", "csrf_token": csrf_token(webtest)},
        status=422,
    )
    assert "window must be a whole number" in page.text


def test_page_form_without_csrf_token_is_refused(webtest, login_as):
    login_as("viewer")
    webtest.post("/intelligence/", {"closes": "1,2,3", "window": "2"}, status=400)


def test_page_empty_form_first(webtest, login_as):
    login_as("viewer")
    page = webtest.get("/intelligence/")
    assert page.html.find("textarea", id="closes").text == ""
    assert page.html.find(id="intelligence-data") is None
