"""The customer portal: a customer's miners, tickets, alerts, notification preferences and
Portal API tokens, mobile first. See docs/white-label.md.
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
