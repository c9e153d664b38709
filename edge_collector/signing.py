"""Signed commands: the bytes a command signature covers, and the checks our collector makes.

The server signs every miner's command when the command becomes APPROVED, with an Ed25519 key
that lives outside its database (``var/command-signing.key``, ``controlplane.signing_key_file``
or ``HASHINSIGHT_COMMAND_KEY``). The collector holds only the public key. Before it touches a
miner it checks, in order:

1. there is a signature (``unsigned`` otherwise, unless ``allow_unsigned``);
2. it is ``ed25519:<key id>:<base64>`` made by a trusted key over :func:`signed_bytes`
   (``bad_signature`` otherwise);
3. the approvals it carries satisfy the risk level it states (``bad_approvals``): every
   approval is for this exact command (its ``digest``), no one approved their own request,
   a medium command has one approval, a high one the consent of the owning ``customer`` and of
   the ``hosting`` provider from two different people (the requester's own side counts as
   consent, ``requester_role``; two ``hosting`` people when no customer owns the miner).

A row written straight into the server's database has no valid signature, and a signed
command whose params, miner, expiry or approvals were changed no longer matches its signature,
so neither makes a miner act.

This module is shared by both sides (the server imports it to sign), so the wire format is
defined once; it imports nothing from the web app.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "hashinsight.command.v1"
ALGORITHM = "ed25519"
PUBLIC_KEYS_VARIABLE = "HASHINSIGHT_COMMAND_PUBLIC_KEYS"
# Everything the signature covers. Fields outside this list (a display name, a hint) may be
# added by the server without breaking older collectors; they are never trusted.
SIGNED_FIELDS = (
    "id",
    "command_id",
    "site_id",
    "site_name",
    "zone_id",
    "zone_name",
    "miner_key",
    "miner_id",
    "action",
    "params",
    "issued_at",
    "expires_at",
    "digest",
    "risk",
    "customer_id",
    "requested_by",
    "requester_role",
    "approvals",
)
RISKS = ("low", "medium", "high")


class SignatureProblem(ValueError):
    """Why a command must not run; ``code`` is the ack's error class."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def signed_bytes(body: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a wire command that its signature covers."""
    payload = {name: body.get(name) for name in SIGNED_FIELDS}
    payload["format"] = FORMAT
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    """Eight hex digits naming a public key (the first 4 bytes of its SHA-256)."""
    return hashlib.sha256(FORMAT.encode() + b"\n" + public_key).hexdigest()[:8]


def sign(body: Mapping[str, Any], private_key: Ed25519PrivateKey) -> str:
    """``ed25519:<key id>:<base64 signature>`` over :func:`signed_bytes`."""
    signature = private_key.sign(signed_bytes(body))
    public = public_bytes(private_key)
    return f"{ALGORITHM}:{key_id(public)}:{base64.b64encode(signature).decode()}"


def read_public_key(text: str) -> bytes:
    """A public key from base64 of its raw 32 bytes; ValueError naming the problem."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a command public key must be base64") from None
    if len(raw) != 32:
        raise ValueError(f"a command public key is 32 bytes, not {len(raw)}")
    return raw


def trusted_keys(configured: Iterable[str] | str = (), environ=None) -> dict[str, bytes]:
    """Key id -> public key, from the config's list and ``HASHINSIGHT_COMMAND_PUBLIC_KEYS``."""
    environ = os.environ if environ is None else environ
    texts: list[str] = []
    if isinstance(configured, str):
        configured = configured.replace(",", " ").split()
    texts.extend(configured or ())
    texts.extend(environ.get(PUBLIC_KEYS_VARIABLE, "").replace(",", " ").split())
    keys = {}
    for text in texts:
        public = read_public_key(text)
        keys[key_id(public)] = public
    return keys


def verify_signature(body: Mapping[str, Any], keys: Mapping[str, bytes]) -> None:
    """Raise :class:`SignatureProblem` unless a trusted key signed exactly this command."""
    signature = body.get("signature")
    if not signature:
        raise SignatureProblem("unsigned", "the command carries no signature")
    if not isinstance(signature, str) or signature.count(":") != 2:
        raise SignatureProblem("bad_signature", "the signature is not ed25519:<key>:<sig>")
    algorithm, kid, text = signature.split(":")
    if algorithm != ALGORITHM:
        raise SignatureProblem("bad_signature", f"unknown signature algorithm {algorithm!r}")
    public = keys.get(kid)
    if public is None:
        raise SignatureProblem("bad_signature", f"signed by key {kid!r}, which is not trusted")
    try:
        raw = base64.b64decode(text, validate=True)
        payload = signed_bytes(body)
    except (binascii.Error, ValueError, TypeError):
        raise SignatureProblem(
            "bad_signature", "the signature or the command is malformed"
        ) from None
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(raw, payload)
    except InvalidSignature:
        raise SignatureProblem(
            "bad_signature", "the signature does not match the command (changed or forged)"
        ) from None


def check_approvals(body: Mapping[str, Any]) -> None:
    """Raise :class:`SignatureProblem` unless the approvals satisfy the stated risk level."""
    risk = body.get("risk")
    if risk not in RISKS:
        raise SignatureProblem("bad_approvals", f"unknown risk level {risk!r}")
    digest = body.get("digest")
    if not isinstance(digest, str) or len(digest) != 64:
        raise SignatureProblem("bad_approvals", "the command has no digest")
    approvals = body.get("approvals")
    if not isinstance(approvals, list):
        raise SignatureProblem("bad_approvals", "approvals must be a list")
    requester = body.get("requested_by")
    users: set = set()
    roles: dict[str, set] = {}
    for approval in approvals:
        if not isinstance(approval, dict):
            raise SignatureProblem("bad_approvals", "an approval is not an object")
        user = approval.get("user_id")
        if approval.get("digest") != digest:
            raise SignatureProblem(
                "bad_approvals", f"user {user}'s approval is for another command"
            )
        if user is None or user == requester:
            raise SignatureProblem("bad_approvals", "the requester approved their own command")
        if user in users:
            raise SignatureProblem("bad_approvals", f"user {user} approved twice")
        users.add(user)
        roles.setdefault(str(approval.get("role")), set()).add(user)
    if risk == "medium" and not users:
        raise SignatureProblem("bad_approvals", "a medium-risk command needs one approval")
    if risk == "high":
        # The owning customer and the hosting provider must both agree. The requester's own
        # request is their side's consent ("requester_role"), never an approval; miners no
        # customer owns belong to the provider, whose two people then agree.
        requester_role = body.get("requester_role") or ""
        if requester_role:
            roles.setdefault(str(requester_role), set()).add(requester)
        people = users | ({requester} if requester_role else set())
        customer, hosting = roles.get("customer", set()), roles.get("hosting", set())
        owned = body.get("customer_id") is not None
        if not users or not hosting or len(people) < 2 or (owned and not customer):
            raise SignatureProblem(
                "bad_approvals",
                "a high-risk command needs the owning customer's and a hosting approval "
                "by two people",
            )


def verify(body: Mapping[str, Any], keys: Mapping[str, bytes]) -> None:
    """Signature, then approvals; raises :class:`SignatureProblem`."""
    verify_signature(body, keys)
    check_approvals(body)
