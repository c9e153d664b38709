"""Tickets: opened by customers, operators or alert rules; SLA timers, workflow, comments,
attachments, e-mail notifications, repair log per miner, bulk actions. See docs/tickets.md.
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
