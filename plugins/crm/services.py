"""Customers: the rules for adding, changing and finding them, shared by the page and the API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import Conflict, InvalidInput
from hashinsight_core.openapi import DEFAULT_LIMIT, MAX_LIMIT
from plugins.crm.models import STATUSES, Customer

_ = TranslationStringFactory("hashinsight")

EDITABLE = ("name", "contact_name", "contact_email", "phone", "status", "notes")
MAX_LENGTH = {"name": 200, "contact_name": 200, "contact_email": 254, "phone": 50, "notes": 5000}
# Deliberately loose: one "@", no spaces, a dot in the domain. Whether the mailbox exists is
# only known by writing to it; this catches typing mistakes, not every invalid address.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# Digits and the separators people write phone numbers with (+7 (701) 123-45-67, 138 0013 8000).
PHONE = re.compile(r"^\+?[0-9 ()./-]*[0-9][0-9 ()./-]*$")


def _text(field: str, value: Any) -> str | None:
    """Strip an optional text field; empty means "not given" and is stored as NULL."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(_("${field} must be text", mapping={"field": field}), field)
    value = value.strip()
    if len(value) > MAX_LENGTH[field]:
        raise InvalidInput(
            _(
                "${field} must be at most ${most} characters",
                mapping={"field": field, "most": MAX_LENGTH[field]},
            ),
            field,
        )
    return value or None


def clean_field(field: str, value: Any) -> Any:
    """One field's value as it is stored, or InvalidInput (422) saying what is wrong."""
    if field == "name":
        name = _text("name", value if value is not None else "")
        if not name:
            raise InvalidInput(_("name must be 1 to 200 characters"), "name")
        return name
    if field == "status":
        if value not in STATUSES:
            raise InvalidInput(
                _(
                    "status must be one of ${statuses} (not '${value}')",
                    mapping={"statuses": ", ".join(STATUSES), "value": value},
                ),
                "status",
            )
        return value
    cleaned = _text(field, value)
    if cleaned is None:
        return None
    if field == "contact_email" and not EMAIL.match(cleaned):
        raise InvalidInput(
            _("'${email}' is not an e-mail address", mapping={"email": cleaned}), "contact_email"
        )
    if field == "phone" and not PHONE.match(cleaned):
        raise InvalidInput(
            _(
                "'${phone}' is not a phone number (use digits, spaces, + - ( ) . /)",
                mapping={"phone": cleaned},
            ),
            "phone",
        )
    return cleaned


def _check_name_free(dbsession, name: str, exclude_id: int | None = None) -> None:
    # Case-insensitive in SQL on both sides, so "ACME" and "Acme" are one customer and the
    # database's own lower() decides (SQLite and PostgreSQL fold non-ASCII letters differently).
    query = sa.select(Customer.id).where(
        sa.or_(Customer.name == name, sa.func.lower(Customer.name) == sa.func.lower(name))
    )
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    # Names are unique across every customer, whoever asks.
    if dbsession.scalar(query.limit(1).execution_options(unscoped=True)) is not None:
        raise Conflict(
            _("a customer named '${name}' already exists", mapping={"name": name}), "name"
        )


def customer_query(q: str | None = None, status: str | None = None) -> sa.Select:
    """Customers whose name or e-mail contains ``q`` (any case) and of ``status``, by name."""
    query = sa.select(Customer)
    q = (q or "").strip()
    if q:
        query = query.where(
            sa.or_(
                Customer.name.icontains(q, autoescape=True),
                Customer.contact_email.icontains(q, autoescape=True),
            )
        )
    if status:
        query = query.where(Customer.status == clean_field("status", status))
    return query.order_by(Customer.name, Customer.id)


def search_customers(
    dbsession,
    q: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> tuple[list[Customer], int]:
    """One page of :func:`customer_query`, and how many match in all."""
    query = customer_query(q, status)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            _("limit must be between 1 and ${most}", mapping={"most": MAX_LIMIT}), "limit"
        )
    if offset < 0:
        raise InvalidInput(_("offset must be 0 or more"), "offset")
    total = dbsession.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = dbsession.scalars(query.limit(limit).offset(offset))
    return list(rows), total


def get_customer(dbsession, customer_id: int) -> Customer | None:
    return dbsession.get(Customer, customer_id)


def create_customer(
    request,
    name: str,
    contact_name: str | None = None,
    contact_email: str | None = None,
    phone: str | None = None,
    status: str = "active",
    notes: str | None = None,
) -> Customer:
    """Add a customer; every field is checked before anything is written."""
    given = {
        "name": name,
        "contact_name": contact_name,
        "contact_email": contact_email,
        "phone": phone,
        "status": status,
        "notes": notes,
    }
    values = {field: clean_field(field, value) for field, value in given.items()}
    dbsession = request.dbsession
    _check_name_free(dbsession, values["name"])
    customer = Customer(**values)
    dbsession.add(customer)
    dbsession.flush()
    request.emit("crm:customer:create", customer_id=customer.id)
    return customer


def update_customer(request, customer: Customer, changes: Mapping[str, Any]) -> Customer:
    """Change only the fields in ``changes``; ``None`` or "" clears an optional field."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(_("${field} cannot be changed", mapping={"field": field}), field)

    values = {field: clean_field(field, value) for field, value in changes.items()}
    changed = sorted(f for f, v in values.items() if getattr(customer, f) != v)
    if not changed:
        return customer
    if "name" in changed:
        _check_name_free(request.dbsession, values["name"], exclude_id=customer.id)
    for field in changed:
        setattr(customer, field, values[field])
    request.dbsession.flush()
    request.emit("crm:customer:update", customer_id=customer.id, fields=changed)
    return customer
