"""The farm description file: how many of which models, where, owned by whom, with what faults.

TOML or JSON with the same keys (docs/edge.md shows a full example)::

    [farm]
    seed = 7
    http_port = 80
    reboot_s = 45.0

    [[miners]]
    model = "S19"
    count = 40
    start = "127.20.0.1"
    site = "site-a"
    zone = "hall-1"
    owner = "customer-1"
    faults = { timeout = 0.01, slow = 0.05, slow_s = 2.0 }
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_collector.simulator.models import MODELS, ModelSpec

FAULT_KINDS = ("timeout", "reset", "malformed", "truncated", "slow", "oversized")


class FarmError(ValueError):
    """A farm file is wrong; the message names the key."""


@dataclass(slots=True)
class Faults:
    timeout: float = 0.0
    reset: float = 0.0
    malformed: float = 0.0
    truncated: float = 0.0
    slow: float = 0.0
    oversized: float = 0.0
    slow_s: float = 2.0

    def any(self) -> bool:
        return any(getattr(self, kind) > 0 for kind in FAULT_KINDS)


@dataclass(slots=True)
class FarmSettings:
    seed: int = 1
    http_port: int = 80
    rpc_port: int = 4028
    v3_port: int = 4433  # Whatsminer API v3 models listen here instead of rpc_port
    ambient_c: float = 25.0
    ambient_swing_c: float = 6.0
    reboot_s: float = 45.0
    ramp_s: float = 20.0
    mode_change_s: float = 2.0
    board_fault_per_day: float = 0.01
    reply_refresh_s: float = 5.0  # how long a miner's figures and encoded replies are reused
    # The factory defaults of the real firmware: a simulator should behave like a new miner.
    web_user: str = "root"
    web_password: str = "root"  # noqa: S105
    whatsminer_password: str = "admin"  # noqa: S105
    whatsminer_v3_password: str = "super"  # noqa: S105 - API v3's "super" account


@dataclass(slots=True)
class MinerSpec:
    ip: str
    model: ModelSpec
    site: str = ""
    zone: str = ""
    owner: str = ""
    joins: bool = True
    http: bool = True
    absent: bool = False
    faults: Faults = field(default_factory=Faults)


@dataclass(slots=True)
class Farm:
    settings: FarmSettings
    miners: list[MinerSpec]

    def inventory(self) -> list[dict[str, Any]]:
        """What a hosting provider's inventory would hold for this farm."""
        return [
            {
                "ip": m.ip,
                "model": m.model.key,
                "vendor": m.model.vendor,
                "site": m.site,
                "zone": m.zone,
                "owner": m.owner,
            }
            for m in self.miners
        ]


def _number(table: dict, key: str, where: str, default: float, lo: float, hi: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise FarmError(f"{where}.{key} must be a number from {lo} to {hi}, got {value!r}")
    return float(value)


def _string(table: dict, key: str, where: str, default: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise FarmError(f"{where}.{key} must be a string, got {value!r}")
    return value


def _loopback(value: Any, where: str) -> ipaddress.IPv4Address:
    try:
        address = ipaddress.IPv4Address(value)
    except (ValueError, TypeError):
        raise FarmError(f"{where} must be an IPv4 address, got {value!r}") from None
    if not address.is_loopback:
        raise FarmError(f"{where} must be a loopback address (127.0.0.0/8), got {value}")
    return address


def _addresses(start: ipaddress.IPv4Address, count: int):
    address = start
    produced = 0
    while produced < count:
        if address not in ipaddress.IPv4Network("127.0.0.0/8"):
            raise FarmError("miners run past the end of 127.0.0.0/8")
        last = int(address) & 0xFF
        # .0 and .255 look like network/broadcast addresses to scanners and people.
        if last not in (0, 255) and str(address) != "127.0.0.1":
            yield str(address)
            produced += 1
        address += 1


def build_farm(data: dict[str, Any]) -> Farm:
    """Validate a parsed farm description and lay the miners out on loopback addresses."""
    if not isinstance(data, dict):
        raise FarmError("the farm file must hold a table/object")
    unknown = set(data) - {"farm", "miners"}
    if unknown:
        raise FarmError(f"unknown top-level key {sorted(unknown)[0]!r} (expected farm, miners)")
    raw = data.get("farm", {})
    if not isinstance(raw, dict):
        raise FarmError("farm must be a table")
    settings = FarmSettings(
        seed=int(_number(raw, "seed", "farm", 1, 0, 2**31)),
        http_port=int(_number(raw, "http_port", "farm", 80, 0, 65535)),
        rpc_port=int(_number(raw, "rpc_port", "farm", 4028, 1, 65535)),
        v3_port=int(_number(raw, "v3_port", "farm", 4433, 1, 65535)),
        ambient_c=_number(raw, "ambient_c", "farm", 25.0, -40, 60),
        ambient_swing_c=_number(raw, "ambient_swing_c", "farm", 6.0, 0, 30),
        reboot_s=_number(raw, "reboot_s", "farm", 45.0, 0, 3600),
        ramp_s=_number(raw, "ramp_s", "farm", 20.0, 0, 3600),
        mode_change_s=_number(raw, "mode_change_s", "farm", 2.0, 0, 600),
        board_fault_per_day=_number(raw, "board_fault_per_day", "farm", 0.01, 0, 1000),
        reply_refresh_s=_number(raw, "reply_refresh_s", "farm", 5.0, 0, 60),
        web_user=_string(raw, "web_user", "farm", "root"),
        web_password=_string(raw, "web_password", "farm", "root"),
        whatsminer_password=_string(raw, "whatsminer_password", "farm", "admin"),
        whatsminer_v3_password=_string(raw, "whatsminer_v3_password", "farm", "super"),
    )
    known = set(FarmSettings.__dataclass_fields__)
    for key in raw:
        if key not in known:
            raise FarmError(f"unknown key farm.{key}")
    groups = data.get("miners")
    if not isinstance(groups, list) or not groups:
        raise FarmError("miners must be a non-empty list of [[miners]] groups")
    miners: list[MinerSpec] = []
    seen: set[str] = set()
    next_start = ipaddress.IPv4Address("127.20.0.1")
    for n, group in enumerate(groups):
        where = f"miners[{n}]"
        if not isinstance(group, dict):
            raise FarmError(f"{where} must be a table")
        allowed = {"model", "count", "start", "site", "zone", "owner", "joins", "http", "faults"}
        allowed |= {"absent"}
        for key in group:
            if key not in allowed:
                raise FarmError(f"unknown key {where}.{key}")
        model_key = group.get("model")
        if model_key not in MODELS:
            raise FarmError(f"{where}.model must be one of {', '.join(MODELS)}, got {model_key!r}")
        model = MODELS[model_key]
        count = int(_number(group, "count", where, 1, 1, 1_000_000))
        start = _loopback(group["start"], f"{where}.start") if "start" in group else next_start
        faults_raw = group.get("faults", {})
        if not isinstance(faults_raw, dict):
            raise FarmError(f"{where}.faults must be a table")
        for key in faults_raw:
            if key not in Faults.__dataclass_fields__:
                raise FarmError(f"unknown key {where}.faults.{key}")
        faults = Faults(
            **{
                kind: _number(faults_raw, kind, f"{where}.faults", 0.0, 0, 1)
                for kind in FAULT_KINDS
            },
            slow_s=_number(faults_raw, "slow_s", f"{where}.faults", 2.0, 0, 600),
        )
        for key in ("joins", "http"):
            if key in group and not isinstance(group[key], bool):
                raise FarmError(f"{where}.{key} must be true or false")
        absent = _number(group, "absent", where, 0.0, 0, 1)
        absent_count = round(absent * count)
        last = start
        for i, ip in enumerate(_addresses(start, count)):
            if ip in seen:
                raise FarmError(f"{where}: address {ip} is already used by another miner")
            seen.add(ip)
            last = ipaddress.IPv4Address(ip)
            miners.append(
                MinerSpec(
                    ip=ip,
                    model=model,
                    site=_string(group, "site", where),
                    zone=_string(group, "zone", where),
                    owner=_string(group, "owner", where),
                    joins=group.get("joins", model.joins),
                    http=group.get("http", model.vendor == "antminer"),
                    # Spread absent miners through the group rather than bunching them.
                    absent=absent_count > 0
                    and i % max(1, count // absent_count) == 0
                    and i // max(1, count // absent_count) < absent_count,
                    faults=faults,
                )
            )
        next_start = last + 1
    return Farm(settings, miners)


def load_farm(path: str | Path) -> Farm:
    """Read a TOML or JSON farm file (by extension; TOML otherwise)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise FarmError(f"cannot read farm file {path}: {error.strerror}") from None
    try:
        data = json.loads(content) if path.suffix == ".json" else tomllib.loads(content.decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise FarmError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {error}"
        ) from None
    return build_farm(data)


def simple_farm(models: dict[str, int], *, start: str = "127.20.0.1", **settings: Any) -> Farm:
    """A farm of ``{model: count}`` laid out from ``start`` (handy for tests and benchmarks)."""
    groups = []
    for n, (model, count) in enumerate(models.items()):
        group: dict[str, Any] = {"model": model, "count": count}
        if n == 0:
            group["start"] = start
        groups.append(group)
    return build_farm({"farm": settings, "miners": groups})
