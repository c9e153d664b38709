"""Quick search: one box in the header, ranked results across miners, sites and tickets,
using PostgreSQL trigram/full-text or SQLite FTS5, scoped to what the account may see.
"""


def includeme(config):
    pass


def permission_specs() -> list:
    return []


def nav_items(request) -> list:
    return []


def periodic_tasks() -> list:
    return []


def api_paths() -> dict:
    """An OpenAPI fragment ``{"paths": {...}, "components": {...}}``."""
    return {"paths": {}, "components": {}}


def search(request, query: str, limit: int) -> list:
    """Ranked hits for ``query``, as ``hashinsight_core.search.SearchGroup`` objects."""
    return []
