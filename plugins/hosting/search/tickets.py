"""Tickets by number (``T-000042``, ``T42``, ``#42``) and title.

The tickets part is built beside this one; until its model and pages exist the group is simply
absent. ``Ticket`` is ``Scoped``, so the session's hook limits the query like any other.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.search import EXACT_ID, PREFIX_ID, SearchGroup, SearchHit
from plugins.hosting.search import text

_ = TranslationStringFactory("hashinsight")

_NUMBER = re.compile(r"^(?:(?P<mark>t-?|#)\s*)?0*(?P<id>\d{1,12})$", re.IGNORECASE)
DETAIL_ROUTE = "hosting.ticket.detail"
LIST_ROUTE = "hosting.ticket.list"  # filters by ?q= (number or title)


def ticket_id(query: str) -> tuple[int, int] | None:
    """(id, rank) when the query is a ticket number: ``T-000042`` and ``#42`` are exact, a bare
    ``42`` ranks like a prefix (it may just as well be part of a serial)."""
    found = _NUMBER.match(query.strip())
    if not found or not 0 < int(found.group("id")) < 2**63:
        return None
    return int(found.group("id")), EXACT_ID if found.group("mark") else PREFIX_ID


def _model():
    try:
        from plugins.hosting.tickets.models import Ticket
    except ImportError:  # pragma: no cover - the tickets part is not there yet
        return None
    return Ticket


def _url(request, ident: int) -> str | None:
    try:
        return request.route_path(DETAIL_ROUTE, ticket_id=ident)
    except KeyError:  # the tickets pages are not registered (yet)
        return None


def search(request, query: str, limit: int) -> SearchGroup | None:
    ticket = _model()
    if ticket is None or _url(request, 1) is None:
        return None
    from plugins.hosting.tickets.permissions import TicketPermission

    if not request.has_permission(TicketPermission.READ):
        return None
    t = text.terms(query)
    number = ticket_id(query)
    rank = text.rank_case(t, identifiers=[], names=[ticket.title])
    found = text.matches(ticket.title, t)
    if number is not None:
        rank = sa.case((ticket.id == number[0], number[1]), else_=rank)
        found = sa.or_(ticket.id == number[0], found)
    statement = (
        sa.select(ticket, rank.label("rank"))
        .where(found)
        .order_by(sa.text("rank"), ticket.id.desc())
        .limit(limit + 1)
    )
    rows = request.dbsession.execute(statement).all()
    hits = [
        SearchHit(
            id=row.id,
            title=f"{row.number} {row.title}",
            subtitle=row.status.replace("_", " "),
            url=_url(request, row.id),
            rank=rank,
        )
        for row, rank in rows[:limit]
    ]
    return SearchGroup(
        kind="ticket",
        title=_("Tickets"),
        hits=hits,
        more=len(rows) > limit,
        more_url=request.route_path(LIST_ROUTE, _query={"q": query}),
        order=20,
    )
