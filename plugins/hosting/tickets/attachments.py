"""Image attachments: PNG, JPEG, WebP or GIF, recognised by their first bytes (never by the
name or the type the browser claims), at most ``hosting.tickets.max_attachment_bytes``.

They are kept in the database (one transaction with the ticket; nothing on disk to clean up
after a refused upload) and served with their checked type, ``nosniff`` and as a download
for anything but an inline image. The account that added a file, or staff, may remove it
while the ticket is not closed (the row, and with it the stored image, is deleted).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import DomainError
from plugins.hosting.tickets.config import ticket_config
from plugins.hosting.tickets.models import Ticket, TicketAttachment
from plugins.hosting.tickets.services import (
    NotAllowed,
    _audit,
    _event,
    _user_id,
    is_staff,
    sees_internal,
)

_ = TranslationStringFactory("hashinsight")

MAX_PER_TICKET = 50


class AttachmentRefused(DomainError):
    status = 415
    code = "unsupported_media_type"


class AttachmentTooLarge(DomainError):
    status = 413
    code = "too_large"


class TicketClosed(DomainError):
    status = 409
    code = "ticket_closed"


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def clean_filename(name: str, content_type: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    base = base.strip("._")[:150] or "image"
    extension = {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/webp": ".webp",
        "image/gif": ".gif",
    }[content_type]
    if not base.lower().endswith((extension, ".jpeg") if extension == ".jpg" else extension):
        base += extension
    return base


def read_upload(upload, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of a cgi FieldStorage-like upload (or bytes)."""
    if isinstance(upload, bytes):
        return upload
    stream = getattr(upload, "file", None)
    if stream is None:
        raise AttachmentRefused(_("send the image as a file"), "file")
    return stream.read(limit + 1)


@dataclass(frozen=True)
class Checked:
    data: bytes
    content_type: str
    filename: str


def check_upload(request, upload) -> Checked:
    """Read and check one upload: 413 too big, 415 not an image (nothing is stored here)."""
    if isinstance(upload, Checked):
        return upload
    limit = ticket_config(request).max_attachment_bytes
    data = read_upload(upload, limit)
    if len(data) > limit:
        raise AttachmentTooLarge(
            _(
                "the file is larger than ${kib} KiB; send a smaller image",
                mapping={"kib": limit // 1024},
            ),
            "file",
        )
    if not data:
        raise AttachmentRefused(_("the file is empty"), "file")
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentRefused(_("only PNG, JPEG, WebP or GIF images can be attached"), "file")
    name = clean_filename(getattr(upload, "filename", "") or "", content_type)
    return Checked(data, content_type, name)


def add_attachment(request, ticket, upload, *, internal: bool = False, comment_id=None):
    """Check and store one image; 413 too big, 415 not an image (nothing stored)."""
    if internal and not sees_internal(request):
        raise NotAllowed(_("customers cannot add internal files"), "internal")
    checked = check_upload(request, upload)
    db = request.dbsession
    count = db.scalar(
        sa.select(sa.func.count())
        .select_from(TicketAttachment)
        .where(TicketAttachment.ticket_id == ticket.id)
        .execution_options(unscoped=True)
    )
    if count >= MAX_PER_TICKET:
        raise AttachmentRefused(
            _("a ticket holds at most ${n} files", mapping={"n": MAX_PER_TICKET}), "file"
        )
    attachment = TicketAttachment(
        ticket_id=ticket.id,
        comment_id=comment_id,
        customer_id=ticket.customer_id,
        site_id=ticket.site_id,
        zone_id=ticket.zone_id,
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=hashlib.sha256(checked.data).hexdigest(),
        data=checked.data,
        internal=internal,
        uploaded_by_id=request.user.id if request.user is not None else None,
    )
    db.add(attachment)
    db.flush()
    _audit(
        request,
        "hosting:ticket:attach",
        ticket,
        attachment=attachment.id,
        size=attachment.size,
        content_type=checked.content_type,
        internal=internal,
    )
    return attachment


def may_remove(request, attachment: TicketAttachment) -> bool:
    """Staff who manage tickets remove any file they can see; others only the ones they added."""
    if is_staff(request):
        return True
    return attachment.uploaded_by_id is not None and attachment.uploaded_by_id == _user_id(request)


def remove_attachment(request, attachment: TicketAttachment) -> Ticket:
    """Delete one file (its row holds the image): 403 for someone else's file, 409 on a closed
    ticket. History (visible to the customer when the file was) and audit keep its trace."""
    if not may_remove(request, attachment):
        raise NotAllowed(_("Only the person who added this file, or staff, can remove it."), "file")
    ticket = request.dbsession.get(Ticket, attachment.ticket_id)
    if ticket is None:  # the file is in scope, so its ticket is; answer like a missing one
        raise HTTPNotFound("no such ticket")
    if ticket.status == "closed":
        raise TicketClosed(_("The ticket is closed; its files can no longer be removed."), "status")
    _event(request, ticket, "detach", attachment.filename, "", internal=attachment.internal)
    _audit(
        request,
        "hosting:ticket:detach",
        ticket,
        attachment=attachment.id,
        filename=attachment.filename,
        size=attachment.size,
        sha256=attachment.sha256,
        internal=attachment.internal,
        uploaded_by=attachment.uploaded_by_id,
    )
    ticket.updated_at = utcnow()
    request.dbsession.delete(attachment)
    request.dbsession.flush()
    return ticket
