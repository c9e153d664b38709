"""Pages and JSON API of the tickets and the repair log.

Item routes load their object through ``object_factory`` (a foreign or missing one is the
same 404); lists go through the scoped session. Bodies are checked by ``services`` (one 422
naming each problem, nothing stored), like the alerts' views.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNoContent, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.view import view_config

from hashinsight_core.db import utcnow
from hashinsight_core.errors import fresh_transaction
from hashinsight_core.exceptions import DomainError, InvalidInput
from hashinsight_core.i18n import translate
from hashinsight_core.models import Customer, User
from hashinsight_core.scoping import object_factory
from plugins.hosting.models import Miner, Site
from plugins.hosting.tickets import attachments, export, services, sla
from plugins.hosting.tickets.config import ticket_config
from plugins.hosting.tickets.models import (
    CATEGORIES,
    PRIORITIES,
    REPAIR_KINDS,
    STATUSES,
    Ticket,
    TicketAttachment,
    ticket_number,
)
from plugins.hosting.tickets.notify import STATUS_LABELS
from plugins.hosting.tickets.permissions import TicketPermission as P
from plugins.hosting.tickets.workflow import CUSTOMER_TRANSITIONS, TRANSITIONS

_ = TranslationStringFactory("hashinsight")
T = "plugins.hosting:templates/hosting/"
PAGE_SIZE = 50

CATEGORY_LABELS = {
    "hashboard": _("Hashboard"),
    "fan": _("Fan"),
    "psu": _("Power supply"),
    "control_board": _("Control board"),
    "network": _("Network"),
    "pool": _("Pool"),
    "overheating": _("Overheating"),
    "billing": _("Billing"),
    "other": _("Other"),
}
PRIORITY_LABELS = {
    "low": _("Low"),
    "normal": _("Normal"),
    "high": _("High"),
    "urgent": _("Urgent"),
}
SOURCE_LABELS = {"customer": _("Customer"), "operator": _("Staff"), "alert": _("Alert")}
REPAIR_LABELS = {
    "part_swap": _("Part swap"),
    "rma_sent": _("RMA sent"),
    "rma_returned": _("RMA returned"),
    "repair": _("Repair"),
    "note": _("Note"),
}
BADGE_LABELS = {
    "met": _("met"),
    "ok": _("on time"),
    "due_soon": _("due soon"),
    "breached": _("missed"),
    "paused": _("paused"),
}
BADGE_CLASSES = {
    "met": "text-bg-success",
    "ok": "text-bg-secondary",
    "due_soon": "text-bg-warning",
    "breached": "text-bg-danger",
    "paused": "text-bg-info",
}


def includeme(config):
    add = config.add_route
    ticket = object_factory(Ticket, "ticket_id")
    add("hosting.ticket.list", "/hosting/tickets/")
    add("hosting.ticket.new", "/hosting/tickets/new")
    add("hosting.ticket.bulk", "/hosting/tickets/bulk")
    add("hosting.ticket.export", "/hosting/tickets/export.{fmt:(csv|xlsx)}")
    add("hosting.ticket.detail", "/hosting/tickets/{ticket_id:\\d+}/", factory=ticket)
    for action in ("comment", "status", "assign"):
        add(
            f"hosting.ticket.{action}",
            f"/hosting/tickets/{{ticket_id:\\d+}}/{action}",
            factory=ticket,
        )
    add(
        "hosting.ticket.attachment",
        "/hosting/tickets/files/{attachment_id:\\d+}",
        factory=object_factory(TicketAttachment, "attachment_id"),
    )
    add(
        "hosting.ticket.detach",
        "/hosting/tickets/files/{attachment_id:\\d+}/remove",
        factory=object_factory(TicketAttachment, "attachment_id"),
    )
    add(
        "hosting.repair.create",
        "/hosting/miners/{miner_id:\\d+}/repairs",
        factory=object_factory(Miner, "miner_id"),
    )
    add("hosting.api.ticket.collection", "/api/v1/hosting/tickets")
    add("hosting.api.ticket.bulk", "/api/v1/hosting/tickets/bulk")
    add("hosting.api.ticket.item", "/api/v1/hosting/tickets/{ticket_id:\\d+}", factory=ticket)
    for action in ("comments", "status", "assign", "attachments"):
        add(
            f"hosting.api.ticket.{action}",
            f"/api/v1/hosting/tickets/{{ticket_id:\\d+}}/{action}",
            factory=ticket,
        )
    add(
        "hosting.api.ticket.attachment",
        "/api/v1/hosting/ticket-attachments/{attachment_id:\\d+}",
        factory=object_factory(TicketAttachment, "attachment_id"),
    )
    add(
        "hosting.api.miner.repairs",
        "/api/v1/hosting/miners/{miner_id:\\d+}/repairs",
        factory=object_factory(Miner, "miner_id"),
    )
    config.add_request_method(repair_log_for_page, "ticket_repair_log")
    config.scan("plugins.hosting.tickets.views")


def api(route, method, permission):
    return view_config(
        route_name=route, request_method=method, renderer="json", permission=permission
    )


def json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(_("the body is not valid JSON"), "body") from None
    if not isinstance(body, dict):
        raise InvalidInput(_("the body must be a JSON object"), "body")
    return body


# --- what pages and answers show --------------------------------------------------------------


def badges(request, ticket: Ticket, now=None) -> dict:
    policy = ticket_config(request).sla
    now = now or utcnow()
    out = {}
    for which in ("response", "resolution"):
        badge = sla.badge(ticket, which, policy, now)
        out[which] = {"state": badge.state, "seconds_left": badge.seconds}
    return out


def ticket_dict(request, ticket: Ticket, *, detail: bool = False) -> dict:
    staff = services.sees_internal(request)
    data = ticket.as_dict(staff=staff)
    data["sla"] = badges(request, ticket)
    data["miner_ids"] = [m.id for m in services.ticket_miners(request, ticket)]
    if detail:
        data["comments"] = [c.as_dict() for c in services.visible_comments(request, ticket)]
        data["events"] = [e.as_dict() for e in services.history(request, ticket)]
        data["attachments"] = [a.as_dict() for a in _attachments(request, ticket)]
    return data


def _attachments(request, ticket) -> list[TicketAttachment]:
    query = (
        sa.select(TicketAttachment)
        .where(TicketAttachment.ticket_id == ticket.id)
        .order_by(TicketAttachment.id)
    )
    if not services.sees_internal(request):
        query = query.where(TicketAttachment.internal.is_(False))
    return list(request.dbsession.scalars(query))


def labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "category_labels": CATEGORY_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "source_labels": SOURCE_LABELS,
        "repair_labels": REPAIR_LABELS,
        "badge_labels": BADGE_LABELS,
        "badge_classes": BADGE_CLASSES,
        "ticket_number": ticket_number,
    }


def _names(request, ids: set, model, column) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = request.dbsession.execute(sa.select(model.id, column).where(model.id.in_(ids)))
    return dict(rows.all())


def _user_names(request, ids: set) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = request.dbsession.execute(
        sa.select(User.id, User.name, User.email).where(User.id.in_(ids))
    )
    return {uid: name or email for uid, name, email in rows}


def repair_log_for_page(request, miner: Miner) -> dict | None:
    """The repair log block of the miner page (None: the account may not see tickets)."""
    if not request.has_permission(P.READ):
        return None
    log = services.repair_log(request, miner)
    return {
        **log,
        "can_write": bool(request.has_permission(P.REPAIR_WRITE)),
        "can_open": bool(request.has_permission(P.OPEN)),
        "kinds": REPAIR_KINDS,
        "badges": {t.id: badges(request, t) for t in log["tickets"]},
        **labels(),
    }


# --- pages: list, new, bulk --------------------------------------------------------------------


def _page_number(request) -> int:
    raw = request.GET.get("page", "1")
    return max(1, min(int(raw), 10**6)) if raw.isdigit() and len(raw) < 8 else 1


def _list_context(request, error=None) -> dict:
    filters = services.parse_filters(request.GET, strict=False)
    page = _page_number(request)
    tickets, total = services.page_of_tickets(request, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    staff = services.sees_internal(request)
    db = request.dbsession
    return {
        "tickets": tickets,
        "total": total,
        # The downloads take the page's filters (not its page number): the same tickets.
        "export_query": {k: v for k, v in request.GET.items() if k in services.FILTERS and v},
        "export_max": ticket_config(request).export_max,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters,
        "error": error,
        "staff": staff,
        "can_manage": bool(request.has_permission(P.MANAGE)),
        "can_open": bool(request.has_permission(P.OPEN)),
        "badges": {t.id: badges(request, t) for t in tickets},
        "sites": list(db.execute(sa.select(Site.id, Site.name).order_by(Site.name))),
        "customers": list(
            db.execute(sa.select(Customer.id, Customer.name).order_by(Customer.name).limit(500))
        )
        if staff
        else [],
        "staff_accounts": services.staff_accounts(request) if staff else [],
        "site_names": _names(request, {t.site_id for t in tickets}, Site, Site.name),
        "customer_names": _names(
            request, {t.customer_id for t in tickets}, Customer, Customer.name
        ),
        "user_names": _user_names(request, {t.assignee_id for t in tickets}) if staff else {},
        "statuses": STATUSES,
        "priorities": PRIORITIES,
        "categories": CATEGORIES,
        **labels(),
    }


@view_config(
    route_name="hosting.ticket.list",
    renderer=T + "tickets.jinja2",
    request_method="GET",
    permission=P.READ,
)
def ticket_list(request):
    return _list_context(request)


@view_config(route_name="hosting.ticket.export", request_method="GET", permission=P.READ)
def ticket_export(request):
    """The list's tickets (same filters, same scope) as CSV or Excel; capped at export_max."""
    filters = services.parse_filters(request.GET, strict=False)
    tickets, total = export.tickets(request, filters)
    data = export.table(request, tickets, labels())
    fmt = request.matchdict["fmt"]
    if fmt == "csv":
        response = Response(body=export.to_csv(data), content_type="text/csv", charset="utf-8")
    else:
        sheet = request.localizer.translate(_("Tickets"))
        response = Response(
            body=export.to_xlsx(data, sheet),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    response.content_disposition = f'attachment; filename="tickets_{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    # How many the list holds and how many are in the file (fewer when capped).
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Export-Rows"] = str(len(tickets))
    return response


@view_config(
    route_name="hosting.ticket.bulk",
    renderer=T + "tickets.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def ticket_bulk_form(request):
    post = request.POST
    ids = [int(v) for v in post.getall("ids") if v.isdigit() and len(v) < 12]
    action = post.get("action", "")
    data = {"ids": ids, "action": action, "note": post.get("note", "")}
    if action == "assign":
        raw = post.get("assignee_id", "")
        data["assignee_id"] = int(raw) if raw.isdigit() and len(raw) < 12 else None
    elif action == "status":
        data["status"] = post.get("status", "")
    try:
        services.bulk(request, data)
    except DomainError as error:
        fresh_transaction(request)  # nothing of the refused change stays
        request.response.status_int = error.status
        return _list_context(request, error=translate(request, error.message))
    return HTTPSeeOther(request.route_path("hosting.ticket.list"))


def _new_context(request, form=None, error=None) -> dict:
    form = form or {}
    miners = []
    ids = form.get("miner_ids") or []
    if ids:
        miners = list(request.dbsession.scalars(sa.select(Miner).where(Miner.id.in_(ids))))
    staff = services.sees_internal(request)
    return {
        "form": form,
        "error": error,
        "miners": miners,
        "staff": staff,
        "sites": list(request.dbsession.execute(sa.select(Site.id, Site.name).order_by(Site.name)))
        if staff
        else [],
        "categories": CATEGORIES,
        "priorities": PRIORITIES,
        **labels(),
    }


def _int_list(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit() and len(str(v)) < 12]


@view_config(
    route_name="hosting.ticket.new",
    renderer=T + "tickets_new.jinja2",
    request_method="GET",
    permission=P.OPEN,
)
def ticket_new(request):
    ids = _int_list(request.GET.getall("miner_id"))
    return _new_context(request, {"miner_ids": ids, "priority": "normal", "category": ""})


@view_config(
    route_name="hosting.ticket.new",
    renderer=T + "tickets_new.jinja2",
    request_method="POST",
    permission=P.OPEN,
)
def ticket_create_form(request):
    post = request.POST
    form = {
        "title": post.get("title", ""),
        "category": post.get("category", ""),
        "priority": post.get("priority", "normal"),
        "body": post.get("body", ""),
        "miner_ids": _int_list(post.getall("miner_ids")),
    }
    raw_site = post.get("site_id", "")
    site_id = int(raw_site) if raw_site.isdigit() and len(raw_site) < 12 else None
    upload = post.get("file")
    try:
        checked = attachments.check_upload(request, upload) if _is_file(upload) else None
        ticket = services.open_ticket(request, site_id=site_id, **form)
        if checked is not None:
            attachments.add_attachment(request, ticket, checked)
    except DomainError as error:
        fresh_transaction(request)  # nothing of the refused change stays
        request.response.status_int = error.status
        return _new_context(request, form, translate(request, error.message))
    return HTTPSeeOther(request.route_path("hosting.ticket.detail", ticket_id=ticket.id))


# --- pages: one ticket ---------------------------------------------------------------------------


def _detail_context(request, ticket: Ticket, error=None) -> dict:
    staff = services.sees_internal(request)
    comments = services.visible_comments(request, ticket)
    events = services.history(request, ticket)
    files = _attachments(request, ticket)
    can_manage = bool(request.has_permission(P.MANAGE))
    table = TRANSITIONS if can_manage else CUSTOMER_TRANSITIONS
    removable = set()
    if ticket.status != "closed" and request.has_permission(P.OPEN):
        removable = {f.id for f in files if attachments.may_remove(request, f)}
    people = {c.author_id for c in comments} | {e.actor_id for e in events}
    if staff:
        people.add(ticket.assignee_id)
    return {
        "ticket": ticket,
        "comments": comments,
        "events": events,
        "files": files,
        "removable": removable,
        "miners": services.ticket_miners(request, ticket),
        "error": error,
        "staff": staff,
        "can_manage": can_manage,
        "can_comment": bool(request.has_permission(P.OPEN)),
        "next_statuses": sorted(table.get(ticket.status, ())),
        "badges": badges(request, ticket),
        "user_names": _user_names(request, people),
        "staff_accounts": services.staff_accounts(request) if can_manage else [],
        "customer_name": _names(request, {ticket.customer_id}, Customer, Customer.name).get(
            ticket.customer_id
        ),
        "site_name": _names(request, {ticket.site_id}, Site, Site.name).get(ticket.site_id),
        "max_kib": ticket_config(request).max_attachment_bytes // 1024,
        **labels(),
    }


@view_config(
    route_name="hosting.ticket.detail",
    renderer=T + "tickets_detail.jinja2",
    request_method="GET",
    permission=P.READ,
)
def ticket_detail(context, request):
    return _detail_context(request, context.object)


def _is_file(upload) -> bool:
    return upload is not None and getattr(upload, "file", None) is not None


def _form_action(request, context, action):
    """Run ``action(ticket)``; on a refusal nothing of it stays and the page says why."""
    ticket = context.object
    ticket_id = ticket.id
    try:
        action(ticket)
    except DomainError as error:
        fresh_transaction(request)  # nothing of the refused change stays
        request.response.status_int = error.status
        ticket = request.dbsession.get(Ticket, ticket_id)
        return _detail_context(request, ticket, translate(request, error.message))
    return HTTPSeeOther(request.route_path("hosting.ticket.detail", ticket_id=ticket.id))


@view_config(
    route_name="hosting.ticket.comment",
    renderer=T + "tickets_detail.jinja2",
    request_method="POST",
    permission=P.OPEN,
)
def ticket_comment_form(context, request):
    post = request.POST
    internal = post.get("internal") in ("on", "1", "true")
    upload = post.get("file")

    def act(ticket):
        body = post.get("body", "")
        checked = attachments.check_upload(request, upload) if _is_file(upload) else None
        comment = None
        if body.strip() or checked is None:
            comment = services.add_comment(request, ticket, body, internal)
        if checked is not None:
            attachments.add_attachment(
                request,
                ticket,
                checked,
                internal=internal,
                comment_id=comment.id if comment else None,
            )

    return _form_action(request, context, act)


@view_config(
    route_name="hosting.ticket.status",
    renderer=T + "tickets_detail.jinja2",
    request_method="POST",
    permission=P.OPEN,
)
def ticket_status_form(context, request):
    post = request.POST
    return _form_action(
        request,
        context,
        lambda ticket: services.change_status(
            request, ticket, post.get("status", ""), post.get("note", "")
        ),
    )


@view_config(
    route_name="hosting.ticket.assign",
    renderer=T + "tickets_detail.jinja2",
    request_method="POST",
    permission=P.MANAGE,
)
def ticket_assign_form(context, request):
    raw = request.POST.get("assignee_id", "")
    user_id = int(raw) if raw.isdigit() and len(raw) < 12 else None

    def act(ticket):
        services.assign(request, ticket, user_id)
        priority = request.POST.get("priority")
        if priority:
            services.set_priority(request, ticket, priority)

    return _form_action(request, context, act)


def _file_response(request, attachment: TicketAttachment) -> Response:
    response = Response(body=attachment.data, content_type=attachment.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cache-Control"] = "private, max-age=3600"
    disposition = "attachment" if request.GET.get("download") else "inline"
    response.content_disposition = f'{disposition}; filename="{attachment.filename}"'
    return response


@view_config(route_name="hosting.ticket.attachment", request_method="GET", permission=P.READ)
@view_config(route_name="hosting.api.ticket.attachment", request_method="GET", permission=P.READ)
def attachment_file(context, request):
    return _file_response(request, context.object)


@view_config(
    route_name="hosting.ticket.detach",
    renderer=T + "tickets_detail.jinja2",
    request_method="POST",
    permission=P.OPEN,
)
def detach_form(context, request):
    """Remove a file from the page; a refusal shows the ticket with the reason."""
    attachment = context.object
    ticket_id = attachment.ticket_id
    try:
        attachments.remove_attachment(request, attachment)
    except DomainError as error:
        fresh_transaction(request)  # nothing of the refused change stays
        request.response.status_int = error.status
        ticket = request.dbsession.get(Ticket, ticket_id)
        return _detail_context(request, ticket, translate(request, error.message))
    return HTTPSeeOther(request.route_path("hosting.ticket.detail", ticket_id=ticket_id))


@view_config(
    route_name="hosting.repair.create",
    renderer=T + "miner.jinja2",
    request_method="POST",
    permission=P.REPAIR_WRITE,
)
def repair_form(context, request):
    post = request.POST
    data = {
        name: post.get(name, "")
        for name in ("kind", "part", "old_serial", "new_serial", "rma_number", "note")
    }
    raw = post.get("ticket_id", "").strip().upper().removeprefix("T-")
    if raw:
        data["ticket_id"] = int(raw) if raw.isdigit() and len(raw) < 12 else raw
    if post.get("miner_status"):
        data["miner_status"] = post.get("miner_status")
    miner = context.object
    miner_id = miner.id
    target = request.route_path("hosting.miner.detail", miner_id=miner_id)
    try:
        services.add_repair(request, miner, data)
    except DomainError as error:
        from plugins.hosting.views import _miner_page

        fresh_transaction(request)  # nothing of the refused change stays
        miner = request.dbsession.get(Miner, miner_id)
        request.response.status_int = error.status
        return _miner_page(request, miner, translate(request, error.message))
    return HTTPSeeOther(target + "#repair-log")


# --- API ---------------------------------------------------------------------------------------


@api("hosting.api.ticket.collection", "GET", P.READ)
def api_ticket_list(request):
    filters = services.parse_filters(request.GET, strict=True)
    limit, offset = services.parse_page(request.GET)
    tickets, total = services.page_of_tickets(request, filters, limit, offset)
    return {
        "items": [ticket_dict(request, t) for t in tickets],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


TICKET_FIELDS = {"title", "category", "priority", "body", "miner_ids", "customer_id", "site_id"}


@api("hosting.api.ticket.collection", "POST", P.OPEN)
def api_ticket_create(request):
    body = json_body(request)
    unknown = sorted(set(body) - TICKET_FIELDS)
    if unknown:
        raise services.TicketInvalid([(name, _("is not a field of a ticket")) for name in unknown])
    ticket = services.open_ticket(
        request,
        title=body.get("title"),
        category=body.get("category"),
        priority=body.get("priority", "normal"),
        body=body.get("body", ""),
        miner_ids=body.get("miner_ids", []),
        customer_id=body.get("customer_id"),
        site_id=body.get("site_id"),
    )
    request.response.status_int = 201
    return ticket_dict(request, ticket, detail=True)


@api("hosting.api.ticket.bulk", "POST", P.MANAGE)
def api_ticket_bulk(request):
    tickets = services.bulk(request, json_body(request))
    return {"items": [ticket_dict(request, t) for t in tickets]}


@api("hosting.api.ticket.item", "GET", P.READ)
def api_ticket_get(context, request):
    return ticket_dict(request, context.object, detail=True)


@api("hosting.api.ticket.item", "PATCH", P.MANAGE)
def api_ticket_update(context, request):
    body = json_body(request)
    unknown = sorted(set(body) - {"priority"})
    if unknown:
        raise services.TicketInvalid([(name, _("cannot be changed here")) for name in unknown])
    if "priority" in body:
        services.set_priority(request, context.object, body["priority"])
    return ticket_dict(request, context.object, detail=True)


@api("hosting.api.ticket.comments", "GET", P.READ)
def api_ticket_comments(context, request):
    return {"items": [c.as_dict() for c in services.visible_comments(request, context.object)]}


@api("hosting.api.ticket.comments", "POST", P.OPEN)
def api_ticket_comment(context, request):
    body = json_body(request)
    unknown = sorted(set(body) - {"body", "internal"})
    if unknown:
        raise services.TicketInvalid([(name, _("is not a field of a comment")) for name in unknown])
    comment = services.add_comment(
        request, context.object, body.get("body"), body.get("internal", False)
    )
    request.response.status_int = 201
    return comment.as_dict()


@api("hosting.api.ticket.status", "POST", P.OPEN)
def api_ticket_status(context, request):
    body = json_body(request)
    services.change_status(request, context.object, body.get("status"), body.get("note", ""))
    return ticket_dict(request, context.object, detail=True)


@api("hosting.api.ticket.assign", "POST", P.MANAGE)
def api_ticket_assign(context, request):
    body = json_body(request)
    if "assignee_id" not in body:
        raise services.TicketInvalid([("assignee_id", _("is required (null: nobody)"))])
    services.assign(request, context.object, body["assignee_id"])
    return ticket_dict(request, context.object, detail=True)


@api("hosting.api.ticket.attachments", "GET", P.READ)
def api_ticket_attachments(context, request):
    return {"items": [a.as_dict() for a in _attachments(request, context.object)]}


@api("hosting.api.ticket.attachments", "POST", P.OPEN)
def api_ticket_attach(context, request):
    upload = request.POST.get("file") if request.content_type.startswith("multipart/") else None
    if upload is None or getattr(upload, "file", None) is None:
        raise InvalidInput(_("send the image as multipart/form-data field 'file'"), "file")
    internal = request.POST.get("internal") in ("1", "true", "on")
    attachment = attachments.add_attachment(request, context.object, upload, internal=internal)
    request.response.status_int = 201
    return attachment.as_dict()


@api("hosting.api.ticket.attachment", "DELETE", P.OPEN)
def api_ticket_detach(context, request):
    attachments.remove_attachment(request, context.object)
    return HTTPNoContent()


@api("hosting.api.miner.repairs", "GET", P.READ)
def api_miner_repairs(context, request):
    log = services.repair_log(request, context.object)
    return {
        "tickets": [ticket_dict(request, t) for t in log["tickets"]],
        "repairs": [r.as_dict() for r in log["repairs"]],
    }


@api("hosting.api.miner.repairs", "POST", P.REPAIR_WRITE)
def api_miner_repair_add(context, request):
    entry = services.add_repair(request, context.object, json_body(request))
    request.response.status_int = 201
    return {**entry.as_dict(), "miner_status": context.object.status}
