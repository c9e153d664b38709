"""Portal Lite API, tickets (``/api/v1/portal/tickets``): a customer's tickets — list, open,
read with the comments meant for them, comment.

The same services as the hosting pages and API (``plugins.hosting.tickets``): the data scope
keeps a token to its customer's tickets, internal notes never leave the provider, and a
customer's comment on a ticket waiting for them puts it back to work. Pages and errors have
the Portal shape (``{"items", "total", "limit", "offset"}``, ``{"error": {...}}``).
"""

from __future__ import annotations

from pyramid.view import view_config

from hashinsight_core.openapi import paginate
from plugins.hosting.tickets import services
from plugins.hosting.tickets.permissions import TicketPermission
from plugins.hosting.tickets.views import ticket_dict


def _body(request) -> dict:
    # The document has validated the JSON body against its schema already.
    return request.openapi.body if hasattr(request, "openapi") else {}


@view_config(
    route_name="controlplane.portal.tickets",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=TicketPermission.READ,
)
def tickets(request):
    params = request.openapi.parameters.query
    filters = services.parse_filters({"status": params.get("status", "active")}, strict=True)
    query = services.ticket_query(request, filters)
    return paginate(request, query, lambda ticket: ticket_dict(request, ticket))


@view_config(
    route_name="controlplane.portal.tickets",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=TicketPermission.OPEN,
)
def ticket_create(request):
    body = _body(request)
    ticket = services.open_ticket(
        request,
        title=body.get("title"),
        category=body.get("category"),
        priority=body.get("priority", "normal"),
        body=body.get("body", ""),
        miner_ids=body.get("miner_ids", []),
    )
    request.response.status_int = 201
    return ticket_dict(request, ticket, detail=True)


@view_config(
    route_name="controlplane.portal.ticket",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=TicketPermission.READ,
)
def ticket(request):
    return ticket_dict(request, request.context.object, detail=True)


@view_config(
    route_name="controlplane.portal.ticket_comments",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=TicketPermission.OPEN,
)
def ticket_comment(request):
    # Portal comments are always visible to the customer: no internal notes here.
    comment = services.add_comment(request, request.context.object, _body(request).get("body"))
    request.response.status_int = 201
    return comment.as_dict()


def includeme(config):
    from hashinsight_core.scoping import object_factory
    from plugins.hosting.tickets.models import Ticket

    ticket_factory = object_factory(Ticket, "ticket_id")
    add = config.add_route
    add("controlplane.portal.tickets", "/api/v1/portal/tickets")
    add("controlplane.portal.ticket", "/api/v1/portal/tickets/{ticket_id}", factory=ticket_factory)
    add(
        "controlplane.portal.ticket_comments",
        "/api/v1/portal/tickets/{ticket_id}/comments",
        factory=ticket_factory,
    )
    config.scan("plugins.controlplane.portal_tickets")
