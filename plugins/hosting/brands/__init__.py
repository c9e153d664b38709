"""Brands (white-label): name, logo, colours, contacts, e-mail look and legal footer, chosen by
the request's host name or the signed-in customer's brand. See docs/white-label.md.
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


def brand_for_request(request) -> dict | None:
    """The brand fields for this request, or None for the deployment default."""
    return None
