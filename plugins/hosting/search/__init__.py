"""Quick search: one box in the header, ranked results across miners, sites, tickets and
customers, using PostgreSQL trigram or SQLite FTS5 indexes, scoped to what the account may see.

The core asks through ``hashinsight_search``; this part answers one group per kind (see
``miners``, ``tickets``, ``places``, ``customers``). Every query is an ORM select on a
``Scoped`` model, so the account's limits apply as everywhere else. See docs/search.md.
"""

from __future__ import annotations


def includeme(config):
    pass


def permission_specs() -> list:
    from plugins.hosting.search.permissions import permission_specs

    return permission_specs()


def nav_items(request) -> list:
    return []


def periodic_tasks() -> list:
    return []


def api_paths() -> dict:
    """An OpenAPI fragment ``{"paths": {...}, "components": {...}}`` (the search API is the
    core's: ``/api/v1/search``)."""
    return {"paths": {}, "components": {}}


def search(request, query: str, limit: int) -> list:
    """Ranked hits for ``query``, as ``hashinsight_core.search.SearchGroup`` objects."""
    from plugins.hosting.search import customers, miners, places, tickets

    groups = []
    for part in (miners, tickets, places, customers):
        group = part.search(request, query, limit)
        if group is not None and group.hits:
            groups.append(group)
    return groups
