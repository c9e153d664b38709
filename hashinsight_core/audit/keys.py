"""Where the checkpoint signing key comes from (never the database), and what is trusted.

Sources, first found wins:

1. ``HASHINSIGHT_AUDIT_KEY`` in the environment: base64 of the raw 32-byte Ed25519 key;
2. the file named by ``audit.signing_key_file`` (as written by ``hashinsight audit keygen``);
3. in development only, ``<hashinsight.var_dir>/audit-signing.key`` if it exists, so that
   ``hashinsight audit keygen`` is all a developer needs.

``audit.public_keys`` (or ``HASHINSIGHT_AUDIT_PUBLIC_KEYS``) lists further base64 public keys
whose checkpoints are trusted: keys used before a rotation, or the only key a process that
verifies but never signs needs. Without any key, checkpoints are off (development); production
refuses to start that way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyramid.exceptions import ConfigurationError

from hashinsight_core.audit import chain
from hashinsight_core.settings import aslist, is_production

KEY_VARIABLE = "HASHINSIGHT_AUDIT_KEY"
PUBLIC_KEYS_VARIABLE = "HASHINSIGHT_AUDIT_PUBLIC_KEYS"
DEFAULT_KEY_FILENAME = "audit-signing.key"


@dataclass(frozen=True)
class AuditKeys:
    origin: str
    private_key: Ed25519PrivateKey | None = None
    source: str = ""  # where the signing key came from, for /readyz and the page
    trusted: tuple[bytes, ...] = field(default=())

    @property
    def can_sign(self) -> bool:
        return self.private_key is not None

    @property
    def public_key(self) -> bytes | None:
        return chain.public_key_bytes(self.private_key) if self.private_key else None

    @property
    def key_id(self) -> str:
        public = self.public_key
        return chain.key_id(self.origin, public).hex() if public else ""


def default_origin(settings: Mapping) -> str:
    """``<public host>/audit``; the key name in every signature line, so keep it stable."""
    configured = settings.get("audit.origin")
    if configured:
        return configured.strip()
    host = urlparse(settings.get("hashinsight.public_url") or "").netloc
    return f"{host or 'hashinsight.local'}/audit"


def read_key_file(path: Path) -> Ed25519PrivateKey:
    """Read a key file; refuse one that other accounts can read (as ssh does)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(
            f"audit signing key file '{path}' does not exist "
            f"(create one with: hashinsight audit keygen --out {path})"
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"audit signing key file '{path}' is readable by other accounts; run: chmod 600 {path}"
        )
    try:
        return chain.private_key_from_text(path.read_text())
    except ValueError as error:
        raise ConfigurationError(f"audit signing key file '{path}': {error}") from None


def load_keys(settings: Mapping, environ: Mapping[str, str] | None = None) -> AuditKeys:
    """Find the signing key and the trusted public keys; raise ConfigurationError if unsafe."""
    environ = os.environ if environ is None else environ
    try:
        origin = chain.check_origin(default_origin(settings))
    except ValueError as error:
        raise ConfigurationError(str(error)) from None

    private: Ed25519PrivateKey | None = None
    source = ""
    if environ.get(KEY_VARIABLE):
        try:
            private = chain.private_key_from_text(environ[KEY_VARIABLE])
        except ValueError as error:
            raise ConfigurationError(f"{KEY_VARIABLE}: {error}") from None
        source = KEY_VARIABLE
    elif settings.get("audit.signing_key_file"):
        path = Path(settings["audit.signing_key_file"])
        private, source = read_key_file(path), str(path)
    elif not is_production(settings) and settings.get("hashinsight.var_dir"):
        path = Path(settings["hashinsight.var_dir"]) / DEFAULT_KEY_FILENAME
        if path.exists():
            private, source = read_key_file(path), str(path)

    trusted: list[bytes] = []
    if private is not None:
        trusted.append(chain.public_key_bytes(private))
    listed = environ.get(PUBLIC_KEYS_VARIABLE) or settings.get("audit.public_keys") or ""
    for text in aslist(listed):
        try:
            public = chain.public_key_from_text(text)
        except ValueError as error:
            raise ConfigurationError(f"audit.public_keys: {error}") from None
        if public not in trusted:
            trusted.append(public)

    if is_production(settings) and not trusted:
        raise ConfigurationError(
            f"no audit signing key: set {KEY_VARIABLE} or audit.signing_key_file "
            "(make one with: hashinsight audit keygen --out FILE); a process that only "
            f"verifies may set {PUBLIC_KEYS_VARIABLE} instead"
        )
    return AuditKeys(origin=origin, private_key=private, source=source, trusted=tuple(trusted))
