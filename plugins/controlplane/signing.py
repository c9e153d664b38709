"""The command-signing key: where it comes from (never the database) and signing with it.

Sources, first found wins (the same order as the audit checkpoint key):

1. ``HASHINSIGHT_COMMAND_KEY`` in the environment: base64 of the raw 32-byte Ed25519 key;
2. the file named by ``controlplane.signing_key_file``;
3. outside production, ``<hashinsight.var_dir>/command-signing.key`` if it exists (``make run``
   creates one).

Without a key commands are not signed: our collector refuses them (unless it is configured
with ``allow_unsigned``) and third-party collectors get them only where the site allows
unsigned commands. The wire format and the checks live in :mod:`edge_collector.signing`,
shared with the collector.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyramid.exceptions import ConfigurationError

from edge_collector import signing as wire_signing
from hashinsight_core.audit import chain
from hashinsight_core.settings import is_production

KEY_VARIABLE = "HASHINSIGHT_COMMAND_KEY"
KEY_FILE_SETTING = "controlplane.signing_key_file"
DEFAULT_KEY_FILENAME = "command-signing.key"


@dataclass(frozen=True)
class CommandSigner:
    private_key: Ed25519PrivateKey | None = None
    source: str = ""

    @property
    def can_sign(self) -> bool:
        return self.private_key is not None

    @property
    def public_key_text(self) -> str:
        if self.private_key is None:
            return ""
        import base64

        return base64.b64encode(wire_signing.public_bytes(self.private_key)).decode()

    @property
    def key_id(self) -> str:
        if self.private_key is None:
            return ""
        return wire_signing.key_id(wire_signing.public_bytes(self.private_key))

    def sign(self, body: Mapping) -> str:
        """The signature of a wire command, or '' when there is no key."""
        if self.private_key is None:
            return ""
        return wire_signing.sign(body, self.private_key)


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(f"command signing key file '{path}' does not exist") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"command signing key file '{path}' is readable by other accounts; "
            f"run: chmod 600 {path}"
        )
    try:
        return chain.private_key_from_text(path.read_text())
    except ValueError as error:
        raise ConfigurationError(f"command signing key file '{path}': {error}") from None


def load_signer(settings: Mapping, environ: Mapping[str, str] | None = None) -> CommandSigner:
    environ = os.environ if environ is None else environ
    if environ.get(KEY_VARIABLE):
        try:
            return CommandSigner(chain.private_key_from_text(environ[KEY_VARIABLE]), KEY_VARIABLE)
        except ValueError as error:
            raise ConfigurationError(f"{KEY_VARIABLE}: {error}") from None
    if settings.get(KEY_FILE_SETTING):
        path = Path(settings[KEY_FILE_SETTING])
        return CommandSigner(_read(path), str(path))
    if not is_production(settings) and settings.get("hashinsight.var_dir"):
        path = Path(settings["hashinsight.var_dir"]) / DEFAULT_KEY_FILENAME
        if path.exists():
            return CommandSigner(_read(path), str(path))
    return CommandSigner()


def write_key_file(path: Path) -> Ed25519PrivateKey:
    """Create a new key file readable by its owner only (refuses to overwrite one)."""
    key = chain.generate_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# HashInsight command signing key (Ed25519); keep it out of the database\n")
        handle.write(chain.private_key_text(key) + "\n")
    return key


def signer(request) -> CommandSigner:
    return request.registry["controlplane.signer"]
