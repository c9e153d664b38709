"""Quick search: the box in the header, its JSON API and the full results page.

The core knows nothing of miners or tickets: it cleans the query, asks every enabled plugin
through the ``hashinsight_search`` hook, and orders the groups they answer. Each plugin runs
its own queries through the scoped session, so what an account finds is what it may open.

::

    header box (search.js) --GET /api/v1/search?q=--> api_view ─┐
    /search/?q= (no JS needed) ------------------> page_view ───┤
                                                                 v
                                 run_search: clean q, hook hashinsight_search(request, q, limit)
                                                                 v
                           [SearchGroup(kind, title, hits[SearchHit(rank, ...)], more)]
                           groups with the best (lowest) rank first
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import DomainError
from hashinsight_core.openapi import error_response, json_response, ref
from hashinsight_core.permissions import CorePermission

_ = TranslationStringFactory("hashinsight")

MIN_QUERY = 2  # shorter queries answer nothing (one letter matches half the farm)
MAX_QUERY = 100
BOX_LIMIT = 5  # hits per group in the header's drop-down
PAGE_LIMIT = 25  # hits per group on the results page
MAX_LIMIT = 50

# How good a hit is; lower is better. Plugins use these so groups compare fairly.
EXACT_ID = 0  # the whole query is a serial, MAC, number or IP
EXACT = 1  # the whole query is a name, worker or position
PREFIX_ID = 2
PREFIX = 3
CONTAINS = 4


@dataclass
class SearchHit:
    """One result: what to show and where it leads."""

    title: str
    url: str
    rank: int = CONTAINS
    subtitle: str = ""
    # what matched, shown as a small label (e.g. "serial", "IP"); translated by the plugin
    matched: str = ""
    id: int | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "url": self.url,
            "rank": self.rank,
            "matched": self.matched,
        }


@dataclass
class SearchGroup:
    """The hits of one kind of thing (miners, sites, …), best first, at most the limit."""

    kind: str
    title: str
    hits: list[SearchHit] = field(default_factory=list)
    more: bool = False  # there were more hits than the limit
    # where "see all" leads (e.g. a list page filtered by the query); optional
    more_url: str | None = None
    order: int = 50  # tie-break between groups with the same best rank

    @property
    def best(self) -> int:
        return min((hit.rank for hit in self.hits), default=CONTAINS + 1)


def clean_query(raw: str | None) -> str:
    """The query as searched: NFKC-normalised (full-width digits and letters become ASCII, as
    a Chinese keyboard types them), control characters dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == " ")
    return re.sub(r"\s+", " ", text).strip()


def run_search(request, raw: str | None, limit: int) -> tuple[str, list[SearchGroup]]:
    """(cleaned query, groups) for the account of ``request``.

    Raises :class:`DomainError` (400) for a query longer than ``MAX_QUERY``; a query shorter
    than ``MIN_QUERY`` finds nothing without asking anyone.
    """
    query = clean_query(raw)
    if len(query) > MAX_QUERY:
        raise DomainError(
            _(
                "The search text is too long (at most ${max} characters).",
                mapping={"max": MAX_QUERY},
            ),
            field="q",
        )
    if len(query) < MIN_QUERY or request.user is None:
        return query, []
    limit = max(1, min(int(limit), MAX_LIMIT))
    groups: list[SearchGroup] = []
    for answer in request.registry.plugin_manager.hook.hashinsight_search(
        request=request, query=query, limit=limit
    ):
        groups.extend(group for group in answer or () if group.hits)
    groups.sort(key=lambda g: (g.best, g.order, g.kind))
    return query, groups


def _as_json(request, query: str, groups: list[SearchGroup]) -> dict:
    translate = request.localizer.translate
    return {
        "query": query,
        "groups": [
            {
                "kind": group.kind,
                "title": translate(group.title),
                "more": group.more,
                "more_url": group.more_url,
                "hits": [
                    {**hit.as_dict(), "matched": translate(hit.matched) if hit.matched else ""}
                    for hit in group.hits
                ],
            }
            for group in groups
        ],
        "all_url": request.route_path("core.search", _query={"q": query}),
    }


def api_view(request):
    params = request.openapi.parameters.query
    query, groups = run_search(request, params.get("q", ""), params.get("limit", BOX_LIMIT))
    return _as_json(request, query, groups)


def page_view(request):
    error = None
    try:
        query, groups = run_search(request, request.GET.get("q", ""), PAGE_LIMIT)
    except DomainError as exc:
        request.response.status = 400
        error, query, groups = exc.message, "", []
    return {
        "query": query,
        "groups": groups,
        "error": error,
        "too_short": 0 < len(query) < MIN_QUERY,
        "min_query": MIN_QUERY,
    }


HIT_SCHEMA = {
    "type": "object",
    "required": ["title", "url", "rank"],
    "properties": {
        "id": {"type": "integer", "nullable": True},
        "title": {"type": "string", "example": "HTM1A2B3C4"},
        "subtitle": {"type": "string", "example": "Antminer S19 · Site A · R12/3/7"},
        "url": {"type": "string", "example": "/hosting/miners/42/"},
        "rank": {
            "type": "integer",
            "description": "0 exact serial/MAC/number/IP, 1 exact name, 2-3 prefix, 4 contains",
        },
        "matched": {"type": "string", "example": "serial"},
    },
}

API_PATHS = {
    "paths": {
        "/api/v1/search": {
            "get": {
                "tags": ["core"],
                "summary": "Quick search across miners, tickets, sites and customers",
                "description": (
                    "Ranked hits grouped by kind, limited to what the account may see (a "
                    f"customer finds only its own miners). Queries shorter than {MIN_QUERY} "
                    f"characters answer no groups; longer than {MAX_QUERY} answer 400."
                ),
                "operationId": "core.search",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "Serial, MAC, worker, position (R12/3/7), IP, name…",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "description": f"Hits per group (1 to {MAX_LIMIT}).",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_LIMIT,
                            "default": BOX_LIMIT,
                        },
                    },
                ],
                "responses": {
                    "200": json_response("Groups of hits, best group first", ref("SearchResult")),
                    "400": error_response("The query is too long or malformed"),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
            }
        }
    },
    "components": {
        "schemas": {
            "SearchResult": {
                "type": "object",
                "required": ["query", "groups"],
                "properties": {
                    "query": {"type": "string"},
                    "all_url": {"type": "string", "example": "/search/?q=HTM1"},
                    "groups": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kind", "title", "hits", "more"],
                            "properties": {
                                "kind": {"type": "string", "example": "miner"},
                                "title": {"type": "string", "example": "Miners"},
                                "more": {"type": "boolean"},
                                "more_url": {"type": "string", "nullable": True},
                                "hits": {"type": "array", "items": HIT_SCHEMA},
                            },
                        },
                    },
                },
            }
        }
    },
}

CLIENT_STRINGS = [
    _("No results"),
    _("See all results"),
    _("Type at least 2 characters"),
]


def can_search(request) -> bool:
    """Whether the header shows the box. Error pages (a 404 from a route factory) render the
    layout for a request that never got a context, so the root is asked then."""
    if request.user is None:
        return False
    context = getattr(request, "context", None)
    if context is None:
        from pyramid.interfaces import IRootFactory

        factory = request.registry.queryUtility(IRootFactory)
        if factory is None:
            return False
        context = factory(request)
    return bool(request.has_permission(CorePermission.SEARCH, context))


def includeme(config):
    config.add_request_method(can_search, "can_search", reify=True)
    config.add_route("core.search", "/search/")
    config.add_route("core.api.search", "/api/v1/search")
    config.add_view(
        page_view,
        route_name="core.search",
        renderer="hashinsight_core:templates/search.jinja2",
        permission=CorePermission.SEARCH,
        request_method="GET",
    )
    config.add_view(
        api_view,
        route_name="core.api.search",
        renderer="json",
        permission=CorePermission.SEARCH,
        request_method="GET",
        openapi=True,
    )
    config.add_client_strings(CLIENT_STRINGS)
