"""Miners by serial, MAC, worker name, model, position (``R12/3/7``) and, where allowed, IP.

Every query here is an ORM select on :class:`Miner`, so the session's scope hook adds the
account's limits: a customer never finds another customer's miner, not even by its exact
serial, and a site-limited operator finds only miners of their sites.

How a text query finds its candidates::

    PostgreSQL: WHERE serial ILIKE '%q%' OR mac ILIKE … OR (ip ILIKE … AND site masked)
                (a GIN trigram index per column; the planner ORs their bitmaps)
    SQLite:     WHERE id IN (SELECT rowid FROM hosting_miners_fts WHERE … MATCH '"q"')
                  AND (the same ILIKE tests, which also apply the IP rule)
                (FTS5 trigram table kept in sync by triggers; see the migration d718293a415c)

    1. identifiers, worker, IP: ranked (exact, prefix, inside), best ``limit + 1``
    2. only if that left room: model-name matches, by serial (rank "inside")
    3. position ``R12/3/7`` / ``R12/3`` / rack name: through the racks, merged by best rank

Queries of two characters skip the text index (trigrams need three) and match field
starts only.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.search import EXACT, EXACT_ID, PREFIX, SearchGroup, SearchHit
from plugins.hosting.models import Miner, Rack, Site
from plugins.hosting.permissions import HostingPermission
from plugins.hosting.search import text
from plugins.hosting.search.permissions import SearchPermission

_ = TranslationStringFactory("hashinsight")

FTS = sa.table("hosting_miners_fts", sa.column("rowid"))
MASKED = "masked"

LABELS = {
    "serial": _("serial"),
    "mac": _("MAC"),
    "pool_worker": _("worker"),
    "model_name": _("model"),
    "ip": _("IP"),
    "position": _("position"),
}


def _fts_match(query: str, columns) -> str:
    """An FTS5 query: the whole text as one phrase, in ``columns`` only."""
    phrase = '"' + query.replace('"', '""') + '"'
    return "{" + " ".join(columns) + "} : " + phrase


def _rank(t: text.Terms, mac: str | None, ip_column):
    """SQL rank of a miner row from its identifiers and worker."""
    identifiers = [Miner.serial, Miner.mac, ip_column]
    whens = [(sa.func.lower(c) == t.text, EXACT_ID) for c in identifiers]
    if mac:
        whens.append((Miner.mac == mac, EXACT_ID))
    whens.append((sa.func.lower(Miner.pool_worker) == t.text, EXACT))
    whens += [
        (sa.func.lower(c).like(t.prefix, escape=text.ESCAPE), text.PREFIX_ID) for c in identifiers
    ]
    whens.append((sa.func.lower(Miner.pool_worker).like(t.prefix, escape=text.ESCAPE), PREFIX))
    return sa.case(*whens, else_=text.CONTAINS)


def _narrow(request, query: str, t: text.Terms, columns, found):
    """On SQLite, ``found`` limited to the FTS5 hits in ``columns`` first (three characters or
    more); the LIKEs of ``found`` then re-check the few rows left."""
    if not t.substring or request.dbsession.get_bind().dialect.name != "sqlite":
        return found
    candidates = sa.select(FTS.c.rowid).where(
        sa.text("hosting_miners_fts MATCH :fts").bindparams(fts=_fts_match(query, columns))
    )
    return sa.and_(Miner.id.in_(candidates), found)


def _text_query(request, query: str, t: text.Terms, ip_allowed: bool):
    """(where, rank) for identifiers, worker and (where allowed) IP. Model names are matched
    apart (``_model_query``): one word can match a fifth of the farm, and ranking all of those
    would cost a sort of thousands of rows for hits that rank last anyway."""
    masked = Site.credential_mode == MASKED
    mac = text.mac_form(query)
    columns = ["serial", "mac", "pool_worker"] + (["ip"] if ip_allowed else [])
    conditions = [text.matches(getattr(Miner, name), t) for name in columns[:3]]
    if ip_allowed:
        conditions.append(sa.and_(text.matches(Miner.ip, t), masked))
    found = _narrow(request, query, t, columns, sa.or_(*conditions))
    if mac:
        found = sa.or_(found, Miner.mac == mac)
    # The IP takes part in ranking only where it may be seen.
    ip_column = sa.case((masked, Miner.ip), else_=None) if ip_allowed else sa.null()
    return found, _rank(t, mac, ip_column)


def _model_query(request, query: str, t: text.Terms):
    """Miners whose model matches: always ranked "inside", filled in by serial."""
    return _narrow(request, query, t, ["model_name"], text.matches(Miner.model_name, t))


def _select(rank):
    return (
        sa.select(Miner, Site.name, Site.credential_mode, Rack.name, rank.label("rank"))
        .join(Site, Site.id == Miner.site_id)
        .outerjoin(Rack, Rack.id == Miner.rack_id)
    )


def _position_query(query: str):
    """(where, rank) for a position ``R12/3/7`` / ``R12/3``, or a bare rack name."""

    # Racks are few: find theirs first, then the miners through the (rack, row, slot) index
    # rather than testing every miner's rack name.
    def in_rack(name: str):
        return Miner.rack_id.in_(sa.select(Rack.id).where(sa.func.lower(Rack.name) == name.lower()))

    place = text.position(query)
    if place is not None:
        where = sa.and_(in_rack(place.rack), Miner.rack_row == place.row)
        if place.slot is not None:
            return sa.and_(where, Miner.rack_slot == place.slot), EXACT
        return where, PREFIX
    if " " in query or "/" in query:
        return None, None
    return in_rack(query), PREFIX


def search(request, query: str, limit: int) -> SearchGroup | None:
    if not request.has_permission(HostingPermission.MINER_READ):
        return None
    ip_allowed = bool(request.has_permission(SearchPermission.MINER_IP_READ))
    t = text.terms(query)
    found, rank = _text_query(request, query, t, ip_allowed)
    db = request.dbsession
    rows = {}
    statement = _select(rank).where(found).order_by(sa.text("rank"), Miner.serial, Miner.id)
    for row in db.execute(statement.limit(limit + 1)):
        rows[row[0].id] = row
    if len(rows) <= limit:
        # Fill up with model matches (rank "inside"), by serial, skipping those found above.
        by_model = _select(sa.literal(text.CONTAINS)).where(_model_query(request, query, t))
        if rows:
            by_model = by_model.where(Miner.id.not_in(list(rows)))
        by_model = by_model.order_by(Miner.serial, Miner.id).limit(limit + 1 - len(rows))
        for row in db.execute(by_model):
            rows[row[0].id] = row
    where, position_rank = _position_query(query)
    if where is not None:
        by_place = _select(sa.literal(position_rank)).where(where).order_by(Miner.rack_slot)
        for row in db.execute(by_place.limit(limit + 1)):
            known = rows.get(row[0].id)
            if known is None or known.rank > position_rank:
                rows[row[0].id] = row
    ordered = sorted(rows.values(), key=lambda r: (r.rank, r[0].serial or "", r[0].id))
    hits = [_hit(request, row, t, query, ip_allowed) for row in ordered[:limit]]
    return SearchGroup(
        kind="miner",
        title=_("Miners"),
        hits=hits,
        more=len(ordered) > limit,
        more_url=request.route_path("hosting.miner.list", _query={"q": query}),
        order=10,
    )


def _hit(request, row, t: text.Terms, query: str, ip_allowed: bool) -> SearchHit:
    miner, site_name, mode, rack_name, rank = row
    ip = miner.ip if ip_allowed and mode == MASKED else None
    position = f"{rack_name}/{miner.rack_row}/{miner.rack_slot}" if rack_name else ""
    fields = {
        "serial": miner.serial,
        "mac": miner.mac,
        "ip": ip,
        "pool_worker": miner.pool_worker,
        "position": position,
        "model_name": miner.model_name,
    }
    matched = ""
    best = None
    for name, value in fields.items():
        found = text.python_rank(value, t, identifier=name in ("serial", "mac", "ip"))
        if found is not None and (best is None or found < best):
            best, matched = found, name
    if not matched and text.mac_form(query) and miner.mac == text.mac_form(query):
        matched = "mac"
    if not matched and position:
        matched = "position"
    translate = request.localizer.translate
    subtitle = " · ".join(
        part for part in (miner.model_name, site_name, position, miner.pool_worker, ip) if part
    )
    title = miner.serial or miner.mac or translate(_("Miner ${id}", mapping={"id": miner.id}))
    return SearchHit(
        id=miner.id,
        title=title,
        subtitle=subtitle,
        url=request.route_path("hosting.miner.detail", miner_id=miner.id),
        rank=rank,
        matched=LABELS.get(matched, ""),
    )
