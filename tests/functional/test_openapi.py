import re

from pyramid.interfaces import IRoutesMapper


def openapi_pattern(route_pattern: str) -> str:
    """/api/v1/x/{id:\\d+} -> /api/v1/x/{id}"""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route_pattern)


def test_every_api_route_is_in_the_document_and_every_path_has_a_route(registry):
    routes = registry.getUtility(IRoutesMapper).get_routes()
    api_patterns = {openapi_pattern(r.pattern) for r in routes if r.pattern.startswith("/api/")}
    documented = set(registry["openapi_document"]["paths"])
    assert api_patterns - documented == set(), "API routes missing from the OpenAPI document"
    assert documented - api_patterns == set(), "documented paths without a route"


def test_document_is_served_and_merges_every_plugin(webtest):
    document = webtest.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    tags = {op.get("tags", [""])[0] for item in document["paths"].values() for op in item.values()}
    assert {"core", "hosting"} <= tags
    assert "Error" in document["components"]["schemas"]


def test_docs_page_uses_local_assets_only(webtest):
    page = webtest.get("/docs/api/")
    assert "swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text.replace("http://localhost", "")
    assert "https://" not in page.text
    webtest.get(page.html.find("script")["src"])  # served by the app itself


def test_invalid_json_body_is_a_400_with_a_message(webtest, login_as):
    from tests.conftest import api_headers

    login_as("admin")
    response = webtest.post(
        "/api/v1/hosting/sites",
        "{not json",
        headers={**api_headers(webtest), "Content-Type": "application/json"},
        status=400,
    )
    assert response.json["error"]["message"]
