"""Identify a miner's firmware and normalize its replies into one ``MinerRecord``.

Supported natively: stock Antminer (cgminer/bmminer), Whatsminer (btminer API v2 on 4028 and
API v3 on 4433) and Avalon (Canaan cgminer). Anything else that speaks the CGMiner API gets
the generic parser (hashrate, shares, pools), and is flagged (``Identity.hint``) so that
pyasic can take over control.

Parsers are fed by firmware we do not control, so they must never raise anything but
``MinerError``: every field goes through the tolerant converters below, and ``normalize`` wraps
the vendor parser in a last safety net that turns surprises into a MALFORMED record.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from edge_collector.rpc import MinerError
from edge_collector.wire import Board, ErrorClass, MinerRecord, Pool, WorkMode

ANTMINER = "antminer"
WHATSMINER = "whatsminer"
AVALON = "avalon"
UNKNOWN = "unknown"

# How a miner is talked to: the CGMiner RPC on 4028, or Whatsminer API v3 on 4433.
PROTOCOL_CGMINER = "cgminer"
PROTOCOL_BTMINER_V3 = "btminer_v3"
# get.miner.status sections polled on API v3 (one connection each).
V3_REPORT = ("summary", "edevs", "pools")
V3_LATEST = ("summary", "edevs")

# The report commands each vendor is polled with (three per miner, joined when allowed).
# Whatsminer's ``stats`` says little; its per-board figures are in ``devs``.
REPORT_COMMANDS: dict[str, tuple[str, ...]] = {
    ANTMINER: ("summary", "stats", "pools"),
    WHATSMINER: ("summary", "devs", "pools"),
    AVALON: ("summary", "stats", "pools"),
    UNKNOWN: ("summary", "devs", "pools"),
}
# The fast "latest" loop skips pools: they change rarely and are the biggest reply.
LATEST_COMMANDS: dict[str, tuple[str, ...]] = {
    vendor: tuple(c for c in commands if c != "pools")
    for vendor, commands in REPORT_COMMANDS.items()
}

_SUFFIX = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_BIG = 10**300  # ints beyond this do not fit a float


def num(value: Any) -> float | None:
    """A finite float from whatever a firmware printed (numbers, "14046.04", "65.5K"), or None."""
    # Fast paths first: this runs ~150 times per miner per poll, mostly on floats and None.
    kind = type(value)
    if kind is float:
        return value if value - value == 0.0 else None  # inf - inf and nan - nan are nan
    if value is None:
        return None
    if kind is int:
        return float(value) if -_BIG < value < _BIG else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        if not text or len(text) > 40:
            return None
        factor = 1.0
        if text[-1].upper() in _SUFFIX and len(text) > 1:
            factor = _SUFFIX[text[-1].upper()]
            text = text[:-1]
        try:
            result = float(text) * factor
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    result = num(value)
    if result is None or abs(result) > 1e18:
        return None
    return int(result)


def text(value: Any, limit: int = 200) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()[:limit]


def section(reply: Any, name: str) -> list[dict[str, Any]]:
    """The records of a reply's section (``SUMMARY``, ``POOLS``...), dicts only."""
    if not isinstance(reply, dict):
        return []
    value = reply.get(name)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def first(reply: Any, name: str) -> dict[str, Any]:
    records = section(reply, name)
    return records[0] if records else {}


def numbers_in(value: Any) -> list[float]:
    """Numbers inside a dashed/spaced string ("58-57-61-60", "33.1 33.2") or a list."""
    if isinstance(value, list):
        return [n for n in (num(item) for item in value[:64]) if n is not None]
    single = num(value)
    if single is not None:
        return [single]
    if isinstance(value, str):
        # Separators are spaces, commas, or a dash between two digits ("58-57-61-60").
        parts = re.split(r"[\s,;/]+|(?<=\d)-(?=\d)", value[:500])
        return [n for n in (num(part) for part in parts) if n is not None]
    return []


def mac_of(value: Any) -> str:
    raw = re.sub(r"[^0-9A-Fa-f]", "", text(value, 40))
    if len(raw) != 12:
        return ""
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2)).upper()


# --- identification -----------------------------------------------------------------------


@dataclass(slots=True)
class Identity:
    vendor: str = UNKNOWN
    model: str = ""
    firmware: str = ""
    api_version: str = ""
    mac: str = ""
    hint: str = ""  # firmware family we saw but do not drive natively (e.g. "braiins")
    protocol: str = PROTOCOL_CGMINER
    serial: str = ""


# Firmware families that answer on 4028 but that we leave to pyasic.
_OTHER_FAMILIES = (
    ("BOSMINER", "braiins"),
    ("BOSER", "braiins"),
    ("LUXMINER", "luxos"),
    ("VNISH", "vnish"),
    ("HIVEON", "hiveon"),
)


def identify(version: Any, devdetails: Any = None) -> Identity:
    """Tell vendor/model/firmware from ``version`` (and Whatsminer's ``devdetails``) replies."""
    ident = Identity()
    blob = (repr(version) + repr(devdetails)).upper()
    ver = first(version, "VERSION")
    status = first(version, "STATUS")
    details = first(devdetails, "DEVDETAILS")
    description = text(status.get("Description")).lower()
    ident.api_version = text(ver.get("API"))
    for token, family in _OTHER_FAMILIES:
        if token in blob:
            ident.hint = family
            ident.model = text(ver.get("Type") or details.get("Model"))
            return ident
    if "BTMINER" in blob or "BITMICRO" in blob:
        ident.vendor = WHATSMINER
        model = text(details.get("Model"))
        # devdetails says e.g. "M30S+_VE40": the part before the variant is the marketed model.
        ident.model = re.split(r"[_.]", model)[0] if model else "Whatsminer"
        ident.firmware = text(ver.get("Firmware Version") or ver.get("fw_ver"))
        ident.mac = mac_of(ver.get("MAC"))
    elif "PROD" in ver or "AVALON" in blob:
        ident.vendor = AVALON
        prod = text(ver.get("PROD") or ver.get("MODEL"))
        ident.model = prod.replace("AvalonMiner", "Avalon").strip() or "Avalon"
        ident.firmware = text(ver.get("VERSION") or ver.get("CGMiner"))
        ident.mac = mac_of(ver.get("MAC"))
    elif "ANTMINER" in blob or "bmminer" in description or "BMMiner" in ver:
        ident.vendor = ANTMINER
        model = text(ver.get("Type"))
        ident.model = model.split(" (")[0].strip() or "Antminer"
        ident.firmware = text(ver.get("CompileTime") or ver.get("Miner") or ver.get("BMMiner"))
    else:
        ident.model = text(ver.get("Type") or details.get("Model"))
        ident.firmware = text(ver.get("CGMiner") or ver.get("Miner"))
    return ident


def identify_v3(device_info: Any) -> Identity:
    """Identity from Whatsminer API v3 ``get.device.info``'s ``msg``."""
    info = device_info if isinstance(device_info, dict) else {}
    miner = info.get("miner") if isinstance(info.get("miner"), dict) else {}
    system = info.get("system") if isinstance(info.get("system"), dict) else {}
    network = info.get("network") if isinstance(info.get("network"), dict) else {}
    model = text(miner.get("type"))
    return Identity(
        vendor=WHATSMINER,
        # "M50_VH84": the part before the variant is the marketed model.
        model=re.split(r"[_.]", model)[0] if model else "Whatsminer",
        firmware=text(system.get("fwversion")),
        api_version=text(system.get("api")),
        mac=mac_of(network.get("mac")),
        protocol=PROTOCOL_BTMINER_V3,
        serial=text(miner.get("miner-sn"), 80),
    )


# --- shared pieces ------------------------------------------------------------------------


def _pools(reply: Any) -> list[Pool]:
    pools = []
    for position, item in enumerate(section(reply, "POOLS")[:16]):
        index = integer(item.get("POOL"))
        active = item.get("Stratum Active")
        pools.append(
            Pool(
                index=index if index is not None else position,
                url=text(item.get("URL"), 300),
                user=text(item.get("User"), 200),
                status=text(item.get("Status"), 20),
                active=active is True or text(active).lower() in ("true", "y", "1"),
                accepted=integer(item.get("Accepted")),
                rejected=integer(item.get("Rejected")),
                stale=integer(item.get("Stale")),
            )
        )
    if pools and not any(pool.active for pool in pools):
        # Firmware without "Stratum Active": the best-priority live pool is the one in use.
        alive = [p for p in pools if p.status.lower() == "alive"] or pools
        alive[0].active = True
    return pools


def _shares(record: MinerRecord, summary: dict[str, Any]) -> None:
    record.accepted = integer(summary.get("Accepted"))
    record.rejected = integer(summary.get("Rejected"))
    record.stale = integer(summary.get("Stale"))
    record.hardware_errors = integer(summary.get("Hardware Errors"))


def _mhs_to_ghs(value: Any) -> float | None:
    result = num(value)
    return None if result is None else round(result / 1000.0, 3)


def _board_status(value: Any) -> str:
    # cgminer device states: Alive/Sick/Dead/NoStart/Initialising.
    status = text(value, 20).lower()
    return {"alive": "ok", "sick": "degraded", "nostart": "dead"}.get(status, status)


def _finish(record: MinerRecord) -> MinerRecord:
    """Fill what can be derived: active pool, temperature summary, is_mining."""
    active = next((pool for pool in record.pools if pool.active), None)
    if active:
        record.pool_url, record.pool_user = active.url, active.user
    temps = [b.temp_chip_c or b.temp_board_c for b in record.boards]
    temps = [t for t in temps if t is not None]
    if temps:
        record.temp_max_c = max(temps) if record.temp_max_c is None else record.temp_max_c
        record.temp_avg_c = round(sum(temps) / len(temps), 2)
    if record.is_mining is None and record.hashrate_ghs is not None:
        record.is_mining = record.hashrate_ghs > 0
    return record


# --- Antminer (stock bmminer / cgminer) ---------------------------------------------------

_RATE_UNITS = {"H": 1e-9, "KH": 1e-6, "MH": 1e-3, "GH": 1.0, "TH": 1e3, "PH": 1e6}


def parse_antminer(record: MinerRecord, replies: dict[str, Any]) -> None:
    summary = first(replies.get("summary"), "SUMMARY")
    stats = section(replies.get("stats"), "STATS")
    # STATS[0] is the version block; the device record is the one that carries chain data.
    device = next((s for s in stats if "ID" in s or "fan_num" in s or "GHS 5s" in s), {})
    info = next((s for s in stats if "Type" in s), {})
    if info and not record.model:
        record.model = text(info.get("Type")).split(" (")[0]
    record.hashrate_ghs = num(summary.get("GHS 5s", device.get("GHS 5s")))
    record.hashrate_avg_ghs = num(summary.get("GHS av", device.get("GHS av")))
    ideal = num(device.get("total_rateideal"))
    unit = text(device.get("rate_unit") or "GH").upper().replace("/S", "")
    if ideal is not None:
        record.hashrate_expected_ghs = round(ideal * _RATE_UNITS.get(unit, 1.0), 3)
    record.uptime_s = integer(device.get("Elapsed", summary.get("Elapsed")))
    fan_count = integer(device.get("fan_num"))
    fans = [integer(device.get(f"fan{i}")) for i in range(1, 9)]
    fans = [f for f in fans if f is not None and f >= 0]
    if fan_count is not None and 0 <= fan_count <= 8:
        # fanN slots are not always contiguous; fan_num says how many are fitted.
        nonzero = [f for f in fans if f > 0]
        fans = (nonzero + [0] * fan_count)[:fan_count]
    record.fans_rpm = fans
    for i in range(1, 17):
        if f"chain_acn{i}" not in device:
            continue
        chips = integer(device.get(f"chain_acn{i}"))
        if chips is None:
            continue
        acs = text(device.get(f"chain_acs{i}"), 2000)
        # In chain_acs every chip is 'o' (working) or 'x' (failed), grouped by spaces.
        bad = acs.count("x") if acs else None
        temps_pcb = numbers_in(device.get(f"temp_pcb{i}", device.get(f"temp{i}")))
        temps_chip = numbers_in(device.get(f"temp_chip{i}", device.get(f"temp2_{i}")))
        record.boards.append(
            Board(
                index=i - 1,
                hashrate_ghs=num(device.get(f"chain_rate{i}")),
                chips=chips,
                bad_chips=bad,
                temp_board_c=max(temps_pcb) if temps_pcb else None,
                temp_chip_c=max(temps_chip) if temps_chip else None,
                hardware_errors=integer(device.get(f"chain_hw{i}")),
                status="ok" if chips and not bad else ("dead" if not chips else "degraded"),
            )
        )
    temp_max = num(device.get("temp_max"))
    record.temp_max_c = temp_max if temp_max and temp_max > 0 else None
    power = num(device.get("total_power") or device.get("Power"))
    record.power_w = power
    mode = integer(device.get("Mode"))
    _shares(record, summary)
    record.pools = _pools(replies.get("pools"))
    if (
        record.hashrate_ghs == 0
        and record.boards
        and all(b.bad_chips == b.chips for b in record.boards)
    ):
        # A sleeping X19 reports zero hashrate and every chip as 'x'.
        record.work_mode = WorkMode.SLEEP
    elif mode is not None and record.hashrate_ghs:
        record.work_mode = WorkMode.NORMAL


# --- Whatsminer (btminer) -----------------------------------------------------------------

_POWER_MODES = {"low": WorkMode.LOW, "normal": WorkMode.NORMAL, "high": WorkMode.HIGH}


def parse_whatsminer(record: MinerRecord, replies: dict[str, Any]) -> None:
    summary = first(replies.get("summary"), "SUMMARY")
    record.hashrate_ghs = _mhs_to_ghs(summary.get("MHS 5s"))
    record.hashrate_avg_ghs = _mhs_to_ghs(summary.get("MHS av"))
    record.hashrate_expected_ghs = num(summary.get("Factory GHS"))
    if record.hashrate_expected_ghs is None:
        record.hashrate_expected_ghs = _mhs_to_ghs(summary.get("Target MHS"))
    record.uptime_s = integer(summary.get("Elapsed", summary.get("Uptime")))
    record.power_w = num(summary.get("Power", summary.get("Power_RT")))
    record.power_limit_w = num(summary.get("Power Limit"))
    record.temp_env_c = num(summary.get("Env Temp"))
    fans = [integer(summary.get("Fan Speed In")), integer(summary.get("Fan Speed Out"))]
    record.fans_rpm = [abs(f) for f in fans if f is not None]
    record.mac = record.mac or mac_of(summary.get("MAC"))
    record.firmware = record.firmware or text(summary.get("Firmware Version")).strip("'")
    mode = text(summary.get("Power Mode")).lower()
    record.work_mode = _POWER_MODES.get(mode, "")
    if text(summary.get("btmineroff")).lower() == "true":
        record.work_mode, record.is_mining = WorkMode.SLEEP, False
    for key, value in summary.items():
        if isinstance(key, str) and key.startswith("Error Code") and integer(value):
            record.errors.append(f"{key}: {text(value)}")
    chip_max = num(summary.get("Chip Temp Max"))
    for position, dev in enumerate(section(replies.get("devs"), "DEVS")[:16]):
        slot = integer(dev.get("Slot", dev.get("ASC")))
        record.boards.append(
            Board(
                index=slot if slot is not None else position,
                hashrate_ghs=_mhs_to_ghs(dev.get("MHS 5s")),
                chips=integer(dev.get("Effective Chips")),
                temp_board_c=num(dev.get("Temperature")),
                temp_chip_c=num(dev.get("Chip Temp Max")),
                hardware_errors=integer(dev.get("Hardware Errors")),
                status=_board_status(dev.get("Status")),
            )
        )
    record.temp_max_c = chip_max if chip_max is not None else num(summary.get("Temperature"))
    _shares(record, summary)
    record.pools = _pools(replies.get("pools"))


# --- Whatsminer API v3 (4433) ------------------------------------------------------------


def _ths_to_ghs(value: Any) -> float | None:
    result = num(value)
    return None if result is None else round(result * 1000.0, 3)


def parse_whatsminer_v3(record: MinerRecord, replies: dict[str, Any]) -> None:
    """``get.miner.status`` summary/edevs/pools ``msg`` objects; hashrates are in TH/s."""
    summary = replies.get("summary", {}).get("summary")
    summary = summary if isinstance(summary, dict) else {}
    record.hashrate_ghs = _ths_to_ghs(summary.get("hash-realtime"))
    record.hashrate_avg_ghs = _ths_to_ghs(summary.get("hash-average"))
    record.hashrate_expected_ghs = _ths_to_ghs(summary.get("factory-hash"))
    record.uptime_s = integer(summary.get("elapsed"))
    record.power_w = num(summary.get("power-realtime"))
    record.power_limit_w = num(summary.get("power-limit"))
    record.temp_env_c = num(summary.get("environment-temperature"))
    fans = [integer(summary.get("fan-speed-in")), integer(summary.get("fan-speed-out"))]
    record.fans_rpm = [abs(f) for f in fans if f is not None]
    edevs = replies.get("edevs", {}).get("edevs")
    for position, dev in enumerate((edevs if isinstance(edevs, list) else [])[:16]):
        if not isinstance(dev, dict):
            continue
        rate = _ths_to_ghs(dev.get("hash-average"))
        record.boards.append(
            Board(
                index=position,
                hashrate_ghs=rate,
                chips=integer(dev.get("effective-chips")),
                temp_board_c=num(dev.get("chip-temp-min")),
                temp_chip_c=num(dev.get("chip-temp-max")),
                status="ok" if rate else "idle",
            )
        )
    chip_max = num(summary.get("chip-temp-max"))
    if chip_max is not None:
        record.temp_max_c = chip_max
    pools = replies.get("pools", {}).get("pools")
    for position, item in enumerate((pools if isinstance(pools, list) else [])[:16]):
        if not isinstance(item, dict):
            continue
        active = item.get("stratum-active")
        record.pools.append(
            Pool(
                index=position,
                url=text(item.get("url"), 300),
                user=text(item.get("account"), 200),
                status=text(item.get("status"), 20).capitalize(),
                active=active is True or text(active).lower() in ("true", "1"),
            )
        )
    if record.pools and not any(pool.active for pool in record.pools):
        alive = [p for p in record.pools if p.status.lower() == "alive"] or record.pools
        alive[0].active = True


# --- Avalon (Canaan cgminer) --------------------------------------------------------------

_MM_FIELD = re.compile(r"(\w+)\[([^\]]*)\]")
_WORKLEVELS = {0: WorkMode.LOW, 1: WorkMode.NORMAL, 2: WorkMode.HIGH}


def parse_mm_block(value: Any) -> dict[str, str]:
    """Avalon packs its module data in one string: ``Ver[1246-83] Temp[25] MGHS[30.1 29.8]``."""
    if not isinstance(value, str):
        return {}
    return dict(_MM_FIELD.findall(value[:20000]))


def parse_avalon(record: MinerRecord, replies: dict[str, Any]) -> None:
    summary = first(replies.get("summary"), "SUMMARY")
    mm: dict[str, str] = {}
    for stat in section(replies.get("stats"), "STATS"):
        for key, value in stat.items():
            if isinstance(key, str) and key.startswith("MM ID"):
                mm = parse_mm_block(value)
                break
        if mm:
            break
    record.hashrate_ghs = _mhs_to_ghs(summary.get("MHS 5s", summary.get("MHS 1m")))
    record.hashrate_avg_ghs = _mhs_to_ghs(summary.get("MHS av"))
    record.hashrate_expected_ghs = num(mm.get("GHSmm"))
    record.uptime_s = integer(summary.get("Elapsed", mm.get("Elapsed")))
    record.temp_env_c = num(mm.get("Temp"))
    record.temp_max_c = num(mm.get("TMax"))
    record.power_w = num(mm.get("WALLPOWER"))
    record.power_limit_w = num(mm.get("MPO"))
    fans = [integer(mm.get(f"Fan{i}")) for i in range(1, 5)]
    record.fans_rpm = [f for f in fans if f is not None]
    level = integer(mm.get("WORKLEVEL"))
    record.work_mode = _WORKLEVELS.get(level, "") if level is not None else ""
    if integer(mm.get("SoftOFF")):
        record.work_mode, record.is_mining = WorkMode.SLEEP, False
    rates = numbers_in(mm.get("MGHS", ""))
    tmax = numbers_in(mm.get("MTmax", ""))
    tavg = numbers_in(mm.get("MTavg", ""))
    for i, rate in enumerate(rates[:16]):
        record.boards.append(
            Board(
                index=i,
                hashrate_ghs=rate,
                temp_board_c=tavg[i] if i < len(tavg) else None,
                temp_chip_c=tmax[i] if i < len(tmax) else None,
                status="ok" if rate > 0 else "idle",
            )
        )
    echu = numbers_in(mm.get("ECHU", ""))
    record.errors.extend(f"ECHU{i}: {int(code)}" for i, code in enumerate(echu[:16]) if code)
    _shares(record, summary)
    record.pools = _pools(replies.get("pools"))


def parse_generic(record: MinerRecord, replies: dict[str, Any]) -> None:
    summary = first(replies.get("summary"), "SUMMARY")
    if "GHS 5s" in summary:
        record.hashrate_ghs = num(summary.get("GHS 5s"))
        record.hashrate_avg_ghs = num(summary.get("GHS av"))
    else:
        record.hashrate_ghs = _mhs_to_ghs(summary.get("MHS 5s"))
        record.hashrate_avg_ghs = _mhs_to_ghs(summary.get("MHS av"))
    record.uptime_s = integer(summary.get("Elapsed"))
    for position, dev in enumerate(section(replies.get("devs"), "DEVS")[:16]):
        record.boards.append(
            Board(
                index=position,
                hashrate_ghs=_mhs_to_ghs(dev.get("MHS 5s")),
                temp_board_c=num(dev.get("Temperature")),
                status=_board_status(dev.get("Status")),
            )
        )
    _shares(record, summary)
    record.pools = _pools(replies.get("pools"))


_PARSERS = {
    ANTMINER: parse_antminer,
    WHATSMINER: parse_whatsminer,
    AVALON: parse_avalon,
    UNKNOWN: parse_generic,
}


def normalize(
    replies: dict[str, Any],
    *,
    identity: Identity,
    miner_key: str,
    ip: str,
    timestamp: str,
) -> MinerRecord:
    """Turn a poll's replies (command -> parsed reply or MinerError) into one record.

    A miner counts as online when its summary answered. Errors of the other sections are
    kept in ``error_class``/``error_message`` without discarding what did arrive.
    """
    record = MinerRecord(
        miner_key=miner_key,
        timestamp=timestamp,
        online=False,
        ip=ip,
        vendor=identity.vendor,
        model=identity.model,
        firmware=identity.firmware,
        api_version=identity.api_version,
        mac=identity.mac,
        serial=identity.serial,
    )
    good = {name: reply for name, reply in replies.items() if isinstance(reply, dict)}
    failures = [reply for reply in replies.values() if isinstance(reply, MinerError)]
    if failures:
        record.error_class = failures[0].error_class.value
        record.error_message = failures[0].message[:300]
    if "summary" not in good:
        if not failures:
            record.error_class, record.error_message = ErrorClass.MALFORMED.value, "no summary"
        return record
    record.online = True
    try:
        if identity.protocol == PROTOCOL_BTMINER_V3:
            parse_whatsminer_v3(record, good)
        else:
            _PARSERS.get(identity.vendor, parse_generic)(record, good)
        return _finish(record)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as error:
        # Parsers are written to tolerate anything; this is the net under the net.
        fallback = MinerRecord(
            miner_key=miner_key,
            timestamp=timestamp,
            online=True,
            ip=ip,
            vendor=identity.vendor,
            model=identity.model,
            error_class=ErrorClass.MALFORMED.value,
            error_message=f"unparseable reply: {type(error).__name__}",
        )
        return fallback
