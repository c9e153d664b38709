"""Sites: the rules for creating them, shared by the page and the API."""

from __future__ import annotations

import zoneinfo

import sqlalchemy as sa

from hashinsight_core.exceptions import Conflict, InvalidInput
from plugins.hosting.models import Site

MAX_CAPACITY_KW = 2_000_000  # 2 GW: far above any single site; catches unit mistakes (W vs kW)


def site_query() -> sa.Select:
    """Every site, by name (names are unique, so pages never overlap)."""
    return sa.select(Site).order_by(Site.name)


def list_sites(dbsession) -> list[Site]:
    return list(dbsession.scalars(site_query()))


def create_site(request, name: str, timezone: str = "UTC", capacity_kw: float = 0.0) -> Site:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name must be 1 to 200 characters", "name")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"'{timezone}' is not a time zone (try Asia/Almaty or UTC)", "timezone"
        ) from None
    try:
        capacity_kw = float(capacity_kw)
    except (TypeError, ValueError):
        raise InvalidInput("capacity_kw must be a number", "capacity_kw") from None
    if not 0 <= capacity_kw <= MAX_CAPACITY_KW:
        raise InvalidInput(f"capacity_kw must be between 0 and {MAX_CAPACITY_KW}", "capacity_kw")
    dbsession = request.dbsession
    if dbsession.scalar(sa.select(Site.id).where(Site.name == name)) is not None:
        raise Conflict(f"a site named '{name}' already exists", "name")
    site = Site(name=name, timezone=timezone, capacity_kw=capacity_kw)
    dbsession.add(site)
    dbsession.flush()
    request.emit("hosting:site:create", site_id=site.id)
    return site
