"""Sites by name and location.

Sites are few (tens, not thousands), so a plain case-insensitive match through the scoped
session is as fast as an index would be; a customer finds the sites holding its miners.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.search import SearchGroup, SearchHit
from plugins.hosting.models import Site
from plugins.hosting.permissions import HostingPermission
from plugins.hosting.search import text

_ = TranslationStringFactory("hashinsight")


def search(request, query: str, limit: int) -> SearchGroup | None:
    if not request.has_permission(HostingPermission.SITE_READ):
        return None
    t = text.terms(query)
    rank = text.rank_case(t, identifiers=[], names=[Site.name, Site.location])
    statement = (
        sa.select(Site, rank.label("rank"))
        .where(sa.or_(text.matches(Site.name, t), text.matches(Site.location, t)))
        .order_by(sa.text("rank"), Site.name)
        .limit(limit + 1)
    )
    rows = request.dbsession.execute(statement).all()
    hits = [
        SearchHit(
            id=site.id,
            title=site.name,
            subtitle=site.location or "",
            url=request.route_path("hosting.site.detail", site_id=site.id),
            rank=rank,
            matched=_("name") if text.python_rank(site.name, t, False) is not None else _("place"),
        )
        for site, rank in rows[:limit]
    ]
    return SearchGroup(kind="site", title=_("Sites"), hits=hits, more=len(rows) > limit, order=30)
