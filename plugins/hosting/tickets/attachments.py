"""Image attachments: PNG, JPEG, WebP or GIF, recognised by their first bytes (never by the
name or the type the browser claims), at most ``hosting.tickets.max_attachment_bytes``.

They are kept in the database (one transaction with the ticket; nothing on disk to clean up
after a refused upload) and served with their checked type, ``nosniff`` and as a download
for anything but an inline image.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa

from hashinsight_core.exceptions import DomainError
from plugins.hosting.tickets.config import ticket_config
from plugins.hosting.tickets.models import TicketAttachment
from plugins.hosting.tickets.services import NotAllowed, _audit, sees_internal

MAX_PER_TICKET = 50


class AttachmentRefused(DomainError):
    status = 415
    code = "unsupported_media_type"


class AttachmentTooLarge(DomainError):
    status = 413
    code = "too_large"


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
        raise AttachmentRefused("send the image as a file", "file")
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
            f"the file is larger than {limit // 1024} KiB; send a smaller image", "file"
        )
    if not data:
        raise AttachmentRefused("the file is empty", "file")
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentRefused("only PNG, JPEG, WebP or GIF images can be attached", "file")
    name = clean_filename(getattr(upload, "filename", "") or "", content_type)
    return Checked(data, content_type, name)


def add_attachment(request, ticket, upload, *, internal: bool = False, comment_id=None):
    """Check and store one image; 413 too big, 415 not an image (nothing stored)."""
    if internal and not sees_internal(request):
        raise NotAllowed("customers cannot add internal files", "internal")
    checked = check_upload(request, upload)
    db = request.dbsession
    count = db.scalar(
        sa.select(sa.func.count())
        .select_from(TicketAttachment)
        .where(TicketAttachment.ticket_id == ticket.id)
        .execution_options(unscoped=True)
    )
    if count >= MAX_PER_TICKET:
        raise AttachmentRefused(f"a ticket holds at most {MAX_PER_TICKET} files", "file")
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
