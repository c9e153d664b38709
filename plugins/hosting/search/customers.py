"""Customers by name, contact name and e-mail, for staff who may see the customer list.

Customers live in the core (``core_customers``); their pages come from the CRM plugin. The
hosting plugin must not import the CRM (plugins meet through hooks), so the CRM's permission is
named here by value, and the group appears only when the CRM is enabled. The table is
``Scoped`` by customer: a customer account could only ever find itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.models import Customer
from hashinsight_core.search import SearchGroup, SearchHit
from plugins.hosting.search import text

_ = TranslationStringFactory("hashinsight")

# plugins.crm.permissions.CrmPermission.CUSTOMER_READ
CRM_CUSTOMER_READ = "crm:customer:read"


def search(request, query: str, limit: int) -> SearchGroup | None:
    if "crm" not in {plugin.name for plugin in request.registry.get("enabled_plugins", ())}:
        return None
    if not request.has_permission(CRM_CUSTOMER_READ):
        return None
    t = text.terms(query)
    columns = [Customer.name, Customer.contact_name, Customer.contact_email]
    rank = text.rank_case(t, identifiers=[Customer.contact_email], names=[Customer.name])
    statement = (
        sa.select(Customer, rank.label("rank"))
        .where(sa.or_(*(text.matches(c, t) for c in columns)))
        .order_by(sa.text("rank"), Customer.name)
        .limit(limit + 1)
    )
    rows = request.dbsession.execute(statement).all()
    hits = [
        SearchHit(
            id=customer.id,
            title=customer.name,
            subtitle=" · ".join(p for p in (customer.contact_name, customer.contact_email) if p),
            url=request.route_path("crm.customer.list", _query={"q": customer.name}),
            rank=rank,
        )
        for customer, rank in rows[:limit]
    ]
    return SearchGroup(
        kind="customer",
        title=_("Customers"),
        hits=hits,
        more=len(rows) > limit,
        more_url=request.route_path("crm.customer.list", _query={"q": query}),
        order=40,
    )
