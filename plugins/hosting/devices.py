"""Edge devices: one per collector, bound to a zone, known by a token shown once.

Only the SHA-256 of a token is stored. A device token (``hie_…``) is not a user API token:
it opens the edge endpoints only, and on those the request never has a user (see
``edge_views.DeviceContext``).
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import Conflict, InvalidInput
from plugins.hosting.models import EdgeDevice, Zone

_ = TranslationStringFactory("hashinsight")
TOKEN_PREFIX = "hie_"  # noqa: S105 - a marker, not a secret


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_device(request, zone: Zone, name: str) -> tuple[EdgeDevice, str]:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(_("name must be 1 to 100 characters"), "name")
    db = request.dbsession
    taken = sa.select(EdgeDevice.id).where(
        EdgeDevice.zone_id == zone.id, EdgeDevice.name == name, EdgeDevice.revoked_at.is_(None)
    )
    if db.scalar(taken) is not None:
        raise Conflict(
            _("the zone already has a device named '${name}'", mapping={"name": name}), "name"
        )
    secret = new_secret()
    user = getattr(request, "user", None)
    device = EdgeDevice(
        name=name,
        site_id=zone.site_id,
        zone_id=zone.id,
        token_hash=digest(secret),
        token_prefix=secret[:10],
        created_by=user.id if user is not None else None,
    )
    db.add(device)
    db.flush()
    request.audit(
        "hosting:device:create",
        subject=("edge_device", device.id),
        payload={"name": name, "zone": zone.id, "site": zone.site_id},
    )
    return device, secret


def rotate(request, device: EdgeDevice) -> str:
    """A new token; the old one stops working at once."""
    if device.revoked_at is not None:
        raise Conflict(_("the device is revoked; register a new one"))
    secret = new_secret()
    device.token_hash = digest(secret)
    device.token_prefix = secret[:10]
    device.rotated_at = utcnow()
    request.dbsession.flush()
    request.audit("hosting:device:rotate", subject=("edge_device", device.id))
    return secret


def revoke(request, device: EdgeDevice) -> None:
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        request.dbsession.flush()
        request.audit("hosting:device:revoke", subject=("edge_device", device.id))


def find_by_secret(dbsession, secret: str | None) -> EdgeDevice | None:
    """The device holding ``secret`` (revoked ones too: the caller answers 403 for those)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    query = (
        sa.select(EdgeDevice)
        .where(EdgeDevice.token_hash == digest(secret))
        .execution_options(unscoped=True)
    )
    return dbsession.scalar(query)
