"""Whatsminer (btminer API v2) privileged-command crypto, shared by collector and simulator.

Write commands on btminer v2 are encrypted: ``get_token`` hands out ``time``, ``salt`` and
``newsalt``; the client derives a key from the admin password with MD5-crypt, signs the
token, and sends ``{"enc":1,"data":base64(AES-256-ECB(json, NUL-padded))}``. The miner
answers ``{"enc":"<base64>"}`` under the same key. MD5-crypt is implemented here because the
standard library's ``crypt`` module is deprecated and gone in Python 3.13.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def md5_crypt(password: str, salt: str) -> str:
    """The classic ``$1$salt$hash`` MD5-crypt (FreeBSD/Linux glibc)."""
    pw = password.encode()
    sl = salt.encode()[:8]
    magic = b"$1$"
    alternate = hashlib.md5(pw + sl + pw).digest()  # noqa: S324 - the firmware's algorithm
    ctx = hashlib.md5(pw + magic + sl)  # noqa: S324
    remaining = len(pw)
    while remaining > 0:
        ctx.update(alternate[: min(16, remaining)])
        remaining -= 16
    bits = len(pw)
    while bits:
        ctx.update(b"\0" if bits & 1 else pw[:1])
        bits >>= 1
    digest = ctx.digest()
    for round_ in range(1000):
        step = hashlib.md5()  # noqa: S324
        step.update(pw if round_ & 1 else digest)
        if round_ % 3:
            step.update(sl)
        if round_ % 7:
            step.update(pw)
        step.update(digest if round_ & 1 else pw)
        digest = step.digest()
    encoded = []
    for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)):
        value = digest[a] << 16 | digest[b] << 8 | digest[c]
        for _ in range(4):
            encoded.append(_ITOA64[value & 0x3F])
            value >>= 6
    value = digest[11]
    for _ in range(2):
        encoded.append(_ITOA64[value & 0x3F])
        value >>= 6
    return f"$1${sl.decode()}${''.join(encoded)}"


def _crypt_part(password: str, salt: str) -> str:
    return md5_crypt(password, salt).split("$")[3]


def session_key(password: str, salt: str) -> bytes:
    """The AES-256 key for a session: sha256 of the password's MD5-crypt hash part."""
    return hashlib.sha256(_crypt_part(password, salt).encode()).digest()


def sign_token(password: str, salt: str, time_value: str, newsalt: str) -> str:
    return _crypt_part(_crypt_part(password, salt) + time_value, newsalt)


def _cipher(key: bytes) -> Cipher:
    # ECB is what the firmware speaks; we cannot choose a better mode on its behalf.
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


def encrypt(key: bytes, body: dict[str, Any]) -> str:
    raw = json.dumps(body, separators=(",", ":")).encode()
    raw += b"\0" * (-len(raw) % 16)
    encryptor = _cipher(key).encryptor()
    return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()


def decrypt(key: bytes, data: str) -> dict[str, Any]:
    """Decrypt a base64 AES-ECB blob into JSON; raise ValueError when it is not valid."""
    raw = base64.b64decode(data, validate=False)
    if not raw or len(raw) % 16:
        raise ValueError("ciphertext is not a whole number of AES blocks")
    decryptor = _cipher(key).decryptor()
    plain = (decryptor.update(raw) + decryptor.finalize()).rstrip(b"\0")
    value = json.loads(plain.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("decrypted body is not an object")
    return value
