"""Two-factor login with TOTP (RFC 6238) authenticator apps, plus recovery codes.

- The secret is encrypted with AES-GCM under a key derived (HKDF-SHA256) from the app secret
  and bound to the account id, so a copied row does not work for another account. Changing
  ``HASHINSIGHT_SECRET`` therefore means everyone enrols again: documented in the README.
- A code is accepted for its 30-second step and one step either side (clock drift), and each
  step only once (``last_step``), so an overheard code cannot be replayed.
- Ten recovery codes are shown once at enrolment; only their SHA-256 is kept, each works once.
- Between the password and the code, the browser holds a signed, 5-minute "half logged in"
  cookie naming the account and its security stamp; no session exists until the code is right.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import time

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import InvalidInput
from hashinsight_core.models import UserMfa

_ = TranslationStringFactory("hashinsight")
log = logging.getLogger(__name__)

PENDING_COOKIE = "hi_mfa"
PENDING_SECONDS = 300
RECOVERY_CODES = 10
WRONG_CODE = _("That code is not right. Check the clock of your phone and try the next code.")


def _key(settings, info: bytes) -> bytes:
    secret = (settings.get("hashinsight.secret") or "").encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def encrypt_secret(settings, user_id: int, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(settings, b"hashinsight totp v1")).encrypt(
        nonce, secret.encode(), f"user:{user_id}".encode()
    )
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(settings, user_id: int, blob: str) -> str:
    raw = base64.urlsafe_b64decode(blob.encode())
    return (
        AESGCM(_key(settings, b"hashinsight totp v1"))
        .decrypt(raw[:12], raw[12:], f"user:{user_id}".encode())
        .decode()
    )


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def status(dbsession, user) -> UserMfa | None:
    return dbsession.get(UserMfa, user.id)


def is_enabled(dbsession, user) -> bool:
    row = status(dbsession, user)
    return row is not None and row.enabled_at is not None


def begin_enrolment(request, user) -> tuple[str, str]:
    """A new (not yet active) secret for ``user``; returns (secret, otpauth URI)."""
    secret = pyotp.random_base32()
    row = status(request.dbsession, user)
    if row is None:
        row = UserMfa(user_id=user.id)
        request.dbsession.add(row)
    row.secret_encrypted = encrypt_secret(request.registry.settings, user.id, secret)
    row.enabled_at = None
    row.last_step = 0
    row.recovery_hashes = []
    return secret, provisioning_uri(request, user, secret)


def provisioning_uri(request, user, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=request.brand["name"])


def pending_secret(request, user) -> str | None:
    row = status(request.dbsession, user)
    if row is None or row.enabled_at is not None:
        return None
    return decrypt_secret(request.registry.settings, user.id, row.secret_encrypted)


def _check_totp(request, row: UserMfa, code: str) -> bool:
    code = (code or "").replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    try:
        secret = decrypt_secret(request.registry.settings, row.user_id, row.secret_encrypted)
    except InvalidTag:
        # The app secret changed since enrolment (or the row was copied from another
        # account): no code can match; an administrator resets two-step login.
        log.error("two-step secret of user %s cannot be decrypted", row.user_id)
        return False
    totp = pyotp.TOTP(secret)
    now = time.time()
    for drift in (-1, 0, 1):
        at = now + drift * totp.interval
        step = totp.timecode(dt.datetime.fromtimestamp(at))
        if step > row.last_step and hmac.compare_digest(totp.at(at), code):
            row.last_step = step
            return True
    return False


def confirm_enrolment(request, user, code: str) -> list[str]:
    """Turn MFA on if ``code`` is right; returns the recovery codes (shown once)."""
    row = status(request.dbsession, user)
    if row is None or row.enabled_at is not None:
        raise InvalidInput(_("Start the set-up again."), "code")
    if not _check_totp(request, row, code):
        raise InvalidInput(WRONG_CODE, "code")
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    row.recovery_hashes = [_hash_code(c) for c in codes]
    row.enabled_at = utcnow()
    return codes


def verify(request, user, code: str) -> str | None:
    """Check a login code; returns "totp" or "recovery" when right, else None."""
    row = status(request.dbsession, user)
    if row is None or row.enabled_at is None:
        return None
    if _check_totp(request, row, code):
        return "totp"
    hashed = _hash_code(code or "")
    if code and hashed in row.recovery_hashes:
        row.recovery_hashes = [h for h in row.recovery_hashes if h != hashed]
        return "recovery"
    return None


def remove(dbsession, user) -> None:
    row = status(dbsession, user)
    if row is not None:
        dbsession.delete(row)


# --- the "password done, code still needed" cookie ---------------------------------------


def _sign(settings, payload: bytes) -> str:
    mac = hmac.new(_key(settings, b"hashinsight mfa pending v1"), payload, hashlib.sha256)
    return base64.urlsafe_b64encode(payload).decode() + "." + mac.hexdigest()


def set_pending(request, response, user, next_url: str) -> None:
    payload = json.dumps(
        {
            "uid": user.id,
            "stamp": user.security_stamp,
            "next": next_url,
            "exp": int(time.time()) + PENDING_SECONDS,
        }
    ).encode()
    response.set_cookie(
        PENDING_COOKIE,
        _sign(request.registry.settings, payload),
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="Lax",
        path="/",
        secure=request.registry.settings.get("hashinsight.env") == "production",
    )


def read_pending(request) -> dict | None:
    value = request.cookies.get(PENDING_COOKIE, "")
    encoded, _, mac = value.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded.encode())
    except (ValueError, TypeError):
        return None
    expected = _sign(request.registry.settings, payload).partition(".")[2]
    if not mac or not hmac.compare_digest(mac, expected):
        return None
    data = json.loads(payload)
    return data if data.get("exp", 0) >= time.time() else None
