"""ABAC: who may see which rows, enforced once, in the data layer.

Tables that hold a customer's or a site's data subclass :class:`Scoped` and name the columns
that scope them::

    class Miner(Scoped, Base):
        __scope__ = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}

Every ORM statement a request runs (select, update, delete, relationship loads, ``get``) gets
the account's limits added as loader criteria by a session hook, so a view cannot forget
them: a customer user's query for miners returns only that customer's miners, and loading a
foreign miner by id finds nothing, which the resource factories turn into a 404 (ids cannot be
probed). Jobs, the CLI and the edge receiver run without a request user and are not limited.

::

    request ──> request.data_scope ──> Scope(customer_id, sites, zones)
                      │                    (from the user row and core_memberships)
                      ▼
    dbsession "do_orm_execute" ──> for each Scoped class in the statement:
                                   WHERE <scope_clause(cls)>

Limits, per dimension:

- **customer** — accounts with ``customer_id`` (customer users, and any custom role given a
  customer) see rows whose customer column equals theirs. Rows of a table with no customer
  column are hidden from them unless the class says otherwise in ``scope_for_customer``.
- **site/zone** — accounts with memberships see rows of those sites (whole-site membership)
  or zones. Tables with neither column are not limited by site.
- Owners and admins are never limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import event
from sqlalchemy.orm import Session, with_loader_criteria
from sqlalchemy.sql import visitors

UNLIMITED_ROLES = frozenset({"owner", "admin"})


class Scoped:
    """Mixin for tables holding a customer's or a site's data; see the module docstring."""

    # dimension ("customer", "site", "zone") -> attribute name on the class
    __scope__: ClassVar[dict[str, str]] = {}

    @classmethod
    def scope_for_customer(cls, customer_id: int):
        """The rows a customer may see when the table has no customer column (default none)."""
        return sa.false()

    @classmethod
    def scope_clause(cls, scope: Scope):
        dims = cls.__scope__
        clauses = []
        if scope.customer_id is not None or scope.no_customer:
            if "customer" in dims:
                column = getattr(cls, dims["customer"])
                clauses.append(sa.false() if scope.no_customer else column == scope.customer_id)
            else:
                clauses.append(
                    sa.false() if scope.no_customer else cls.scope_for_customer(scope.customer_id)
                )
        if scope.limited_by_site:
            site = getattr(cls, dims["site"]) if "site" in dims else None
            zone = getattr(cls, dims["zone"]) if "zone" in dims else None
            if site is not None and zone is not None:
                clauses.append(
                    sa.or_(site.in_(scope.whole_sites or [-1]), zone.in_(scope.zones or [-1]))
                )
            elif site is not None:
                clauses.append(site.in_(scope.any_sites or [-1]))
            elif zone is not None:
                clauses.append(zone.in_(scope.zones or [-1]))
        return sa.and_(sa.true(), *clauses)


@dataclass(frozen=True)
class Scope:
    """What one account may reach. ``Scope()`` is unlimited."""

    customer_id: int | None = None
    # a customer user whose account has no customer sees no customer data at all
    no_customer: bool = False
    whole_sites: frozenset[int] = frozenset()
    zones: frozenset[int] = frozenset()
    zone_sites: frozenset[int] = frozenset()  # the sites the zones are in
    limited_by_site: bool = False

    @property
    def unlimited(self) -> bool:
        return self.customer_id is None and not self.no_customer and not self.limited_by_site

    @property
    def any_sites(self) -> frozenset[int]:
        """Sites the account sees at least part of (a zone's site row, its name, …)."""
        return self.whole_sites | self.zone_sites

    def allows_site(self, site_id: int | None) -> bool:
        return not self.limited_by_site or site_id in self.any_sites

    def allows_zone(self, site_id: int | None, zone_id: int | None) -> bool:
        if not self.limited_by_site:
            return True
        return site_id in self.whole_sites or zone_id in self.zones


@dataclass(frozen=True)
class Place:
    """A site (``zone_id`` None) or one zone of it that an account can be limited to."""

    site_id: int
    zone_id: int | None
    label: str

    @property
    def key(self) -> str:
        return f"{self.site_id}:{self.zone_id or ''}"


def places(request) -> dict[str, Place]:
    """Every place the enabled plugins offer, by ``key``."""
    found: dict[str, Place] = {}
    for group in request.registry.plugin_manager.hook.hashinsight_places(request=request):
        for place in group or ():
            found[place.key] = place
    return found


def scope_for_user(dbsession, user) -> Scope:
    if user is None or user.role in UNLIMITED_ROLES:
        return Scope()
    from hashinsight_core.models import Membership

    rows = dbsession.execute(
        sa.select(Membership.site_id, Membership.zone_id).where(Membership.user_id == user.id)
    ).all()
    whole = frozenset(site for site, zone in rows if zone is None)
    zones = frozenset(zone for _site, zone in rows if zone is not None)
    zone_sites = frozenset(site for site, zone in rows if zone is not None)
    return Scope(
        customer_id=user.customer_id,
        no_customer=user.role == "customer" and user.customer_id is None,
        whole_sites=whole,
        zones=zones,
        zone_sites=zone_sites,
        limited_by_site=bool(rows),
    )


def data_scope(request) -> Scope:
    return scope_for_user(request.dbsession, request.user)


def _all_scoped() -> dict[str, type]:
    """Table name -> mapped Scoped class, for every Scoped model imported so far."""
    found: dict[str, type] = {}
    pending = list(Scoped.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        table = getattr(cls, "__table__", None)
        if table is not None:
            found[table.name] = cls
    return found


def _scoped_classes(state) -> list[type]:
    """The Scoped classes a statement reads or writes, including inside subqueries (a count
    over a subquery has no entity of its own but still reads the table)."""
    classes = {m.class_ for m in state.all_mappers if issubclass(m.class_, Scoped)}
    scoped = _all_scoped()
    for element in visitors.iterate(state.statement):
        if isinstance(element, sa.Table) and element.name in scoped:
            classes.add(scoped[element.name])
    return list(classes)


def _add_criteria(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("unscoped"):
        return
    classes = _scoped_classes(state)
    if not classes:
        return
    request = state.session.info.get("request")
    scope = state.session.info.get("scope")
    if scope is None and request is not None:
        scope = request.data_scope
    if scope is None or scope.unlimited:
        return
    options = [
        with_loader_criteria(cls, cls.scope_clause(scope), include_aliases=True) for cls in classes
    ]
    # Relationship and column loads triggered from these rows must stay inside the scope too.
    state.statement = state.statement.options(*options)


def install(session_class=Session) -> None:
    """Add the scope to every ORM statement (idempotent: the listener is registered once)."""
    if not event.contains(session_class, "do_orm_execute", _add_criteria):
        event.listen(session_class, "do_orm_execute", _add_criteria)


def limited_session(dbsession, scope: Scope):
    """Limit a session with no request (a task acting for someone) to ``scope``."""
    dbsession.info["scope"] = scope
    return dbsession


class ObjectResource:
    """A context for one object: its own ``__acl__`` (when the object has one) before the
    role grants of the root."""

    def __init__(self, request, obj):
        self.request = request
        self.object = obj

    @property
    def __acl__(self):
        own = list(getattr(self.object, "__acl__", ()) or ())
        return own + self.request.registry["acl"] + self.request.custom_role_acl


def object_factory(model: type, key: str = "id"):
    """A route factory loading ``model`` by the ``{key}`` of the URL through the scoped session.

    A missing id, a malformed one and another customer's object all answer the same 404.
    """

    def factory(request):
        raw = (request.matchdict or {}).get(key, "")
        try:
            ident = int(raw)
        except (TypeError, ValueError):
            raise HTTPNotFound(f"no such {model.__name__.lower()}") from None
        if not 0 < ident < 2**63:
            raise HTTPNotFound(f"no such {model.__name__.lower()}")
        obj = request.dbsession.get(model, ident)
        if obj is None:
            raise HTTPNotFound(f"no such {model.__name__.lower()}")
        return ObjectResource(request, obj)

    factory.model = model  # the ABAC matrix test finds object routes by these
    factory.key = key
    return factory


def includeme(config):
    install()
    config.add_request_method(data_scope, "data_scope", reify=True)
