"""KPIs: uptime with and without excused events, realized hashrate and J/TH, energy, ticket
figures, fleet health; trend charts, drill-down and CSV/Excel export. See docs/kpi.md.
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
