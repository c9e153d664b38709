"""The collector's configuration file (TOML or JSON), validated with messages naming the key.

Every key, its type, default and range is listed once in ``SCHEMA``; docs/edge.md shows the
same table. The device token may come from the file, a file it names, or the environment
variable ``HASHINSIGHT_EDGE_TOKEN`` (which wins), so it need not sit in a world-readable file.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from edge_collector.discovery import expand_targets


class ConfigError(ValueError):
    """The configuration is wrong; the message names the section and key."""


@dataclass(frozen=True, slots=True)
class Key:
    kind: type | tuple[type, ...]
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


SCHEMA: dict[str, dict[str, Key]] = {
    "server": {
        "url": Key(str, "", help="the HashInsight server's base URL (https://...)"),
        "device_token": Key(str, "", help="the edge device token (or token_file / env)"),
        "token_file": Key(str, "", help="a file holding the device token"),
        "site_id": Key(str, "", help="the site this collector serves"),
        "zone_id": Key(str, "", help="the zone this collector serves ('' = whole site)"),
        "timeout_s": Key(float, 15.0, 1, 300),
        "ca_file": Key(str, "", help="extra CA bundle for a private server certificate"),
    },
    "collector": {
        "state_dir": Key(str, "edge-state", help="spool, identity and status live here"),
        "shard_index": Key(int, 0, 0, 9999),
        "shard_total": Key(int, 1, 1, 10000),
        "share_miner_ips": Key(bool, False, help="send miner IPs to the server (site policy)"),
        "log_format": Key(str, "text", choices=("text", "json")),
    },
    "miners": {
        "targets": Key(list, [], help="CIDR blocks, a-b ranges or single addresses"),
        "port": Key(int, 4028, 1, 65535),
        "v3_port": Key(int, 4433, 1, 65535, help="Whatsminer API v3 (tried when 4028 refuses)"),
        "timeout_s": Key(float, 3.0, 0.05, 60),
        "concurrency": Key(int, 1000, 1, 10000),
        "scan_timeout_s": Key(float, 1.5, 0.05, 60),
        "scan_concurrency": Key(int, 256, 1, 10000),
        "rescan_interval_s": Key(float, 600.0, 0, 86400, help="0 = scan only at start"),
    },
    "poll": {
        "raw_interval_s": Key(float, 60.0, 0.1, 3600),
        "latest_interval_s": Key(float, 10.0, 0, 3600, help="0 turns the latest loop off"),
        "latest_window": Key(int, 2000, 0, 1_000_000, help="miners per latest tick; 0 = all"),
    },
    "upload": {
        "batch_size": Key(int, 1000, 1, 100_000),
        "max_spool_mb": Key(float, 512.0, 0.01, 1_000_000),
        "max_spool_age_h": Key(float, 24.0, 0.001, 24 * 90),
        "latest_max_age_s": Key(float, 300.0, 1, 86400),
        "backoff_initial_s": Key(float, 1.0, 0.01, 600),
        "backoff_max_s": Key(float, 300.0, 0.05, 86400),
    },
    "commands": {
        "enabled": Key(bool, False),
        "poll_interval_s": Key(float, 5.0, 0.05, 3600),
        "allow_unsigned": Key(bool, False, help="accept commands without a signature"),
        "public_keys": Key(
            list, [], help="base64 Ed25519 public keys trusted for command signatures"
        ),
        "verify_timeout_s": Key(float, 120.0, 0.1, 3600),
        "verify_interval_s": Key(float, 5.0, 0.02, 600),
    },
    "credentials": {
        "antminer_web_user": Key(str, "root"),
        "antminer_web_password": Key(str, "root"),
        "antminer_web_port": Key(int, 80, 1, 65535),
        "whatsminer_password": Key(str, "admin"),
        "whatsminer_v3_password": Key(str, "super", help="API v3 'super' account password"),
    },
}


class Config:
    """Validated settings: ``config.poll.raw_interval_s`` and so on."""

    def __init__(self, values: dict[str, dict[str, Any]], path: Path | None = None) -> None:
        self._values = values
        self.path = path
        for section, keys in values.items():
            setattr(self, section, _Section(keys))

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {section: dict(keys) for section, keys in self._values.items()}

    @property
    def state_dir(self) -> Path:
        state = Path(self._values["collector"]["state_dir"])
        if not state.is_absolute() and self.path is not None:
            state = self.path.parent / state
        return state

    def require_server(self) -> None:
        """``run`` and uploads need a server; ``scan``/``probe`` do not."""
        server = self._values["server"]
        if not server["url"]:
            raise ConfigError("config: [server] url is required")
        if not server["device_token"]:
            raise ConfigError(
                "config: [server] device_token (or token_file, or HASHINSIGHT_EDGE_TOKEN) "
                "is required"
            )
        if not server["site_id"]:
            raise ConfigError("config: [server] site_id is required")


class _Section:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _check(section: str, name: str, key: Key, value: Any) -> Any:
    where = f"config: [{section}] {name}"
    if key.kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        value = float(value)
    elif key.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, got {value!r}")
    elif key.kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
    elif key.kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
    elif key.kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    if key.lo is not None and not key.lo <= value <= key.hi:
        raise ConfigError(f"{where} must be from {key.lo:g} to {key.hi:g}, got {value!r}")
    if key.choices and value not in key.choices:
        raise ConfigError(f"{where} must be one of {', '.join(key.choices)}, got {value!r}")
    return value


def build_config(data: Any, path: Path | None = None) -> Config:
    if not isinstance(data, dict):
        raise ConfigError("config: the file must hold a table/object")
    for section in data:
        if section not in SCHEMA:
            raise ConfigError(f"config: unknown section [{section}] (expected {', '.join(SCHEMA)})")
    values: dict[str, dict[str, Any]] = {}
    for section, keys in SCHEMA.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"config: [{section}] must be a table")
        for name in given:
            if name not in keys:
                raise ConfigError(f"config: unknown key [{section}] {name}")
        values[section] = {
            name: _check(section, name, key, given[name]) if name in given else key.default
            for name, key in keys.items()
        }
    server = values["server"]
    if server["url"]:
        parsed = urlparse(server["url"])
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"config: [server] url must be an http(s) URL, got {server['url']!r}")
    token = os.environ.get("HASHINSIGHT_EDGE_TOKEN", "")
    if not token and server["token_file"]:
        token_path = Path(server["token_file"])
        if not token_path.is_absolute() and path is not None:
            token_path = path.parent / token_path
        try:
            token = token_path.read_text().strip()
        except OSError as error:
            raise ConfigError(
                f"config: [server] token_file {str(token_path)!r}: {error.strerror}"
            ) from None
    if token:
        server["device_token"] = token
    collector = values["collector"]
    if collector["shard_index"] >= collector["shard_total"]:
        raise ConfigError(
            "config: [collector] shard_index must be below shard_total "
            f"({collector['shard_index']} >= {collector['shard_total']})"
        )
    try:
        expand_targets(values["miners"]["targets"])
    except ValueError as error:
        raise ConfigError(f"config: [miners] targets: {error}") from None
    if values["upload"]["backoff_max_s"] < values["upload"]["backoff_initial_s"]:
        raise ConfigError("config: [upload] backoff_max_s must be at least backoff_initial_s")
    return Config(values, path)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"config: cannot read {path}: {error.strerror}") from None
    try:
        if path.suffix == ".json":
            data = json.loads(content)
        else:
            data = tomllib.loads(content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise ConfigError(f"config: {path} is not valid {kind}: {error}") from None
    return build_config(data, path)
