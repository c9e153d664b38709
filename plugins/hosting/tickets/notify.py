"""E-mail about tickets, sent after the transaction commits (``request.send_mail``).

Who hears what:

- the customer's accounts: a new ticket staff opened for them, staff's visible replies and
  status changes (never internal notes, never assignment);
- the assignee: the customer's replies, and being given a ticket.

Each mail carries the customer's brand (``plugins.hosting.brands.brand_for_customer`` when
that part provides it) and goes only to accounts that want ticket mail
(``plugins.hosting.portal.wants_mail`` when the portal provides it). The actor never gets a
mail about their own change.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.models import User

_ = TranslationStringFactory("hashinsight")
TEMPLATE = "plugins.hosting:templates/hosting/tickets_mail.txt.jinja2"

STATUS_LABELS = {
    "open": _("Open"),
    "in_progress": _("In progress"),
    "waiting_customer": _("Waiting on you"),
    "waiting_parts": _("Waiting on parts"),
    "resolved": _("Resolved"),
    "closed": _("Closed"),
}


def _optional(module: str, name: str):
    """A function another part of the plugin may provide (None while it does not)."""
    from importlib import import_module

    try:
        return getattr(import_module(module), name, None)
    except ImportError:  # pragma: no cover - the parts ship together
        return None


def brand_for(request, customer_id):
    find = _optional("plugins.hosting.brands", "brand_for_customer")
    if find is None or customer_id is None:
        return None
    return find(request, customer_id)


def wants(request, user_id: int) -> bool:
    check = _optional("plugins.hosting.portal", "wants_mail")
    return True if check is None else bool(check(request, user_id, "tickets"))


def link(request, ticket) -> str:
    path = request.route_path("hosting.ticket.detail", ticket_id=ticket.id)
    public = request.registry.settings.get("hashinsight.public_url")
    return (
        public.rstrip("/") + path
        if public
        else request.route_url("hosting.ticket.detail", ticket_id=ticket.id)
    )


def _customer_accounts(request, ticket) -> list[User]:
    if ticket.customer_id is None:
        return []
    actor = request.user.id if request.user is not None else None
    users = request.dbsession.scalars(
        sa.select(User)
        .where(User.customer_id == ticket.customer_id, User.is_active.is_(True))
        .order_by(User.id)
    )
    return [u for u in users if u.id != actor]


def _send(request, users, ticket, what, text="", *, brand=None) -> int:
    sent = 0
    values = {
        "ticket": ticket,
        "number": ticket.number,
        "what": what,  # translated in each recipient's language
        "text": text,
        "link": link(request, ticket),
    }
    subject = _("[${number}] ${title}", mapping={"number": ticket.number, "title": ticket.title})
    for user in users:
        if not wants(request, user.id):
            continue
        request.send_mail(user.email, subject, TEMPLATE, values, brand=brand)
        sent += 1
    return sent


def ticket_opened(request, ticket, body: str) -> int:
    """Staff (or an alert rule) opened a ticket: the customer hears of it unless an alert did
    it (alerts have their own notifications)."""
    if ticket.source == "alert":
        return 0
    what = _("We opened a ticket about your miners.")
    brand = brand_for(request, ticket.customer_id)
    return _send(request, _customer_accounts(request, ticket), ticket, what, body, brand=brand)


def staff_wrote(request, ticket, body: str) -> int:
    what = _("There is a new reply on your ticket.")
    brand = brand_for(request, ticket.customer_id)
    return _send(request, _customer_accounts(request, ticket), ticket, what, body, brand=brand)


def customer_wrote(request, ticket, body: str, opened: bool = False) -> int:
    """The customer wrote (or opened the ticket): its assignee hears of it."""
    if ticket.assignee_id is None:
        return 0
    user = request.dbsession.get(User, ticket.assignee_id)
    if user is None or not user.is_active:
        return 0
    what = _("The customer opened this ticket.") if opened else _("The customer replied.")
    return _send(request, [user], ticket, what, body)


def status_changed(request, ticket, before: str, note: str, *, by_staff: bool) -> int:
    what = _(
        "Status: ${before} → ${after}",
        mapping={
            "before": STATUS_LABELS.get(before, before),
            "after": STATUS_LABELS.get(ticket.status, ticket.status),
        },
    )
    users = _customer_accounts(request, ticket)
    if not by_staff and ticket.assignee_id is not None:
        assignee = request.dbsession.get(User, ticket.assignee_id)
        if assignee is not None and assignee.is_active:
            users.append(assignee)
    brand = brand_for(request, ticket.customer_id)
    return _send(request, users, ticket, what, note, brand=brand)


def assigned(request, ticket, user: User) -> int:
    return _send(request, [user], ticket, _("This ticket was given to you."))
