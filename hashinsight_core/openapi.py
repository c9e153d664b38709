"""One OpenAPI 3 document for the whole app, merged from the core and every enabled plugin.

Views declared with ``openapi=True`` have their request validated against the document
(openapi-core does the validating); the unmarshalled result is ``request.openapi``. A bad
request answers 400 ``{"error": {"code": "invalid_request", "message", "details"}}``.
"""

from __future__ import annotations

import copy

from openapi_core import OpenAPI
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPBadRequest
from pyramid_openapi3.wrappers import PyramidOpenAPIRequest

from hashinsight_core.permissions import CorePermission

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid_request"},
                "message": {"type": "string", "example": "hashrate_ths: -1 is less than 0"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


# --- helpers for plugins' fragments: one way to write the common shapes -----------------

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def ref(name: str) -> dict:
    """A reference to a schema in ``components/schemas``."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict, example=None) -> dict:
    """A JSON media type; ``example`` (optional) is shown next to the schema in the docs."""
    media = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def json_body(schema: dict, example=None) -> dict:
    """A required JSON request body."""
    return {"required": True, "content": json_content(schema, example)}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": json_content(schema)}


def error_response(description: str) -> dict:
    return json_response(description, ref("Error"))


def path_id(name: str) -> dict:
    """An integer id in the path, e.g. ``{site_id}``."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


# Every list endpoint pages the same way: ?limit=&offset=, answering items/total/limit/offset.
PAGE_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "description": f"How many items (1 to {MAX_LIMIT}).",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    {
        "name": "offset",
        "in": "query",
        "description": "How many items to skip.",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
]


def page_of(item_schema: dict, **extra_properties) -> dict:
    """The answer of a list endpoint."""
    return {
        "type": "object",
        "required": ["items", "total", "limit", "offset"],
        "properties": {
            "items": {"type": "array", "items": item_schema},
            "total": {"type": "integer", "description": "All matching items, not just this page"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            **extra_properties,
        },
    }


def paginate(request, query, serialize) -> dict:
    """Run ``query`` (a SQLAlchemy select) for the page asked in ``request`` (``?limit=&offset=``,
    validated by the document) and answer in the ``page_of`` shape."""
    import sqlalchemy as sa

    params = request.openapi.parameters.query if hasattr(request, "openapi") else {}
    limit = min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
    offset = int(params.get("offset", 0))
    counted = query.order_by(None).subquery()  # the order does not change the count
    total = request.dbsession.scalar(sa.select(sa.func.count()).select_from(counted))
    # Past the end there is nothing to fetch; asking anyway would hand the database an offset
    # it may not hold (above 2**63 is a 500 on SQLite and PostgreSQL), so it is not asked.
    rows = [] if offset >= total else request.dbsession.scalars(query.limit(limit).offset(offset))
    return {
        "items": [serialize(row) for row in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


CORE_FRAGMENT = {
    "paths": {
        "/api/v1/openapi.json": {
            "get": {
                "tags": ["core"],
                "summary": "This document",
                "operationId": "core.openapi",
                "responses": {"200": {"description": "The OpenAPI 3 document"}},
            }
        }
    },
    "components": {
        "schemas": {"Error": ERROR_SCHEMA},
        "responses": {
            "BadRequest": error_response("The request is malformed or fails validation"),
            "NotFound": error_response("No such object (or not yours)"),
            "Forbidden": error_response("Not allowed"),
        },
    },
}


def merge(fragments: list[dict], info: dict) -> dict:
    """Merge fragments into one document; the same path or component twice is an error."""
    document: dict = {
        "openapi": "3.0.3",
        "info": info,
        "paths": {},
        "components": {},
    }
    for fragment in fragments:
        for path, item in fragment.get("paths", {}).items():
            if not path.startswith("/api/"):
                raise ConfigurationError(f"OpenAPI path '{path}' is not under /api/")
            if path in document["paths"]:
                raise ConfigurationError(f"OpenAPI path '{path}' is declared twice")
            document["paths"][path] = copy.deepcopy(item)
        for kind, entries in fragment.get("components", {}).items():
            target = document["components"].setdefault(kind, {})
            for name, value in entries.items():
                if name in target and target[name] != value:
                    raise ConfigurationError(f"OpenAPI component '{kind}/{name}' differs twice")
                target[name] = copy.deepcopy(value)
    return document


def _error_details(errors, field=None):
    for error in errors:
        nested = getattr(error.__cause__, "schema_errors", None)
        if nested is not None:
            yield from _error_details(nested, getattr(error, "name", None))
            continue
        message = str(error.__cause__) if error.__cause__ else getattr(error, "message", str(error))
        path = getattr(error, "path", None)
        where = "/".join(str(p) for p in path) if path else getattr(error, "name", field)
        yield {"field": where, "message": message.splitlines()[0][:300]}


class RequestInvalid(HTTPBadRequest):
    def __init__(self, details: list[dict]):
        message = "; ".join(
            f"{d['field']}: {d['message']}" if d.get("field") else d["message"] for d in details
        )
        super().__init__(detail=message or "the request does not match the API document")
        self.details = details
        self.error_code = "invalid_request"


def openapi_view(view, info):
    """View deriver: ``openapi=True`` validates the request against the document."""
    if not info.options.get("openapi"):
        return view

    def wrapper(context, request):
        result = request.registry["openapi"].unmarshal_request(PyramidOpenAPIRequest(request))
        if result.errors:
            raise RequestInvalid(list(_error_details(result.errors)))
        request.openapi = result
        return view(context, request)

    return wrapper


openapi_view.options = ("openapi",)


def document_view(request):
    return request.registry["openapi_document"]


def includeme(config):
    config.add_view_deriver(openapi_view)
    registry = config.registry

    def build():
        settings = registry.settings
        from hashinsight_core.search import API_PATHS as SEARCH_PATHS

        fragments = [CORE_FRAGMENT, SEARCH_PATHS]
        for fragment in registry.plugin_manager.hook.hashinsight_api_paths():
            if fragment:
                fragments.append(fragment)
        info = {
            "title": f"{settings['brand.name']} API",
            "version": "1",
            "description": 'JSON API. Errors answer {"error": {"code", "message"}}.',
        }
        document = merge(fragments, info)
        registry["openapi_document"] = document
        # from_dict checks the document; a plugin's broken fragment stops start-up here.
        registry["openapi"] = OpenAPI.from_dict(document)

    build()
    config.add_route("core.openapi", "/api/v1/openapi.json")
    config.add_view(
        document_view,
        route_name="core.openapi",
        renderer="json",
        permission=CorePermission.API_DOCS_VIEW,
    )
    config.add_route("core.api_docs", "/docs/api/")
    config.add_view(
        route_name="core.api_docs",
        renderer="hashinsight_core:templates/api_docs.jinja2",
        permission=CorePermission.API_DOCS_VIEW,
        view=lambda request: {},
    )
