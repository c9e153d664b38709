"""One simulated miner: its state, how that state moves, and its firmware's replies.

State is evaluated lazily from the clock when a request arrives, so 10,000 idle miners cost
nothing between polls: hashrate noise around the model's nominal figure, temperatures from
load and a daily ambient profile, fans from temperature, share counters from work done, random
board faults, reboots that take time, sleep/wake with a ramp, and work modes that scale
hashrate and power.

Replies follow the real firmware field for field (see the research notes in
shared/reference/miner-protocols.md): the STATUS block and codes, section names, number
formats, bmminer's quirks, and "Access denied" (code 45) for commands outside stock
Antminer's read-only API group.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from edge_collector import btminer_crypto, btminer_v3, speedups
from edge_collector.simulator.farm import FarmSettings, MinerSpec
from edge_collector.simulator.models import MODE_FACTORS

ANTMINER_READ = {"version", "summary", "stats", "pools", "devs"}
# Commands cgminer knows: outside the allowed group they are "Access denied", not "Invalid".
CGMINER_KNOWN = ANTMINER_READ | {
    "config", "edevs", "estats", "devdetails", "dbgstats", "notify", "coin", "usbstats",
    "asccount", "pgacount", "lcd", "check", "asc", "pga", "switchpool", "enablepool",
    "disablepool", "addpool", "removepool", "poolpriority", "poolquota", "save", "quit",
    "restart", "privileged", "ascenable", "ascdisable", "ascidentify", "ascset", "debug",
    "setconfig", "zero", "hotplug", "lockstats", "failover-only",
}  # fmt: skip
WHATSMINER_READ = {
    "summary", "devs", "edevs", "pools", "devdetails", "version", "stats", "status",
    "get_version", "get_psu", "get_miner_info", "get_error_code", "get_token",
}  # fmt: skip
WHATSMINER_WRITE = {
    "reboot", "restart_btminer", "power_off", "power_on", "update_pools", "set_low_power",
    "set_normal_power", "set_high_power", "adjust_power_limit", "set_led", "update_pwd",
}  # fmt: skip
AVALON_READ = {"version", "summary", "stats", "estats", "pools", "devs", "edevs", "config"}
ANTMINER_MODE_CODES = {"normal": 0, "sleep": 1, "low": 3}
ANTMINER_CODE_MODES = {0: "normal", 1: "sleep", 2: "low", 3: "low"}
# A pool share at difficulty ~65k is found roughly this often per TH/s of work.
SHARES_PER_TH_S = 0.0036


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _split_commas(text: str) -> list[str]:
    """Split cgminer parameters on commas not escaped with a backslash."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


class SimMiner:
    """A miner on one loopback address. Not thread-safe: one event loop owns it."""

    def __init__(self, spec: MinerSpec, settings: FarmSettings, seed: int) -> None:
        self.spec = spec
        self.model = spec.model
        self.settings = settings
        self.ip = spec.ip
        self.rng = random.Random(seed)
        now = time.monotonic()
        self.boot_at = now - self.rng.uniform(3_600, 20 * 86_400)
        self.mode = "normal"
        self.mode_at = self.boot_at
        self.work_ths = 0.0  # TH done before mode_at since boot, for share counters
        self.pending: tuple[float, str] | None = None  # (when, mode) of a scheduled change
        self.down_until = 0.0
        self.absent = spec.absent
        self.failed_boards: set[int] = set()
        self.fault_checked = now
        self.blink = False
        self.power_limit = int(self.model.power_w * 1.1)
        octets = [int(x) for x in self.ip.split(".")]
        self.mac = "02:%02X:%02X:%02X:%02X:%02X" % (0x1A, *octets[:3], octets[3])  # noqa: UP031
        digest = hashlib.sha256(f"{settings.seed}:{self.ip}".encode()).hexdigest().upper()
        self.serial = f"{self.model.key[:4].upper()}{digest[:12]}"
        self.board_serials = [f"{digest[12:20]}{i:02d}" for i in range(self.model.boards)]
        worker = f"{spec.owner or 'farm'}.{self.ip.replace('.', 'x')}"
        self.pools = [
            {"url": "stratum+tcp://btc.pool.example:3333", "user": worker, "pass": "x"},
            {"url": "stratum+tcp://btc-backup.pool.example:443", "user": worker, "pass": "x"},
            {"url": "stratum+tcp://solo.pool.example:3334", "user": worker, "pass": "x"},
        ]
        # cgminer keeps pools in the order they were added (their index) and mines on the
        # highest-priority live one; switchpool moves a pool to priority 0.
        self.pool_order = [0, 1, 2]  # indexes by priority
        self.wm_salt = "".join(self.rng.choice(string.ascii_letters) for _ in range(8))
        self.wm_tokens: dict[str, tuple[str, float]] = {}
        # The server hooks these to close/reopen listeners when the miner goes away.
        self.on_down: Callable[[SimMiner, float], None] | None = None
        self.requests = 0
        # Like real firmware, which refreshes its figures every few seconds (cgminer's log
        # interval is 5 s), the state and every encoded reply are kept for
        # ``reply_refresh_s``: the requests of one poll share them, and a miner asked again
        # within that time answers from bytes already made. Any state change clears them.
        self._snap: tuple[float, dict[str, Any]] | None = None
        self._replies: dict[tuple, bytes] = {}

    # --- dynamics -------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        if self.pending and now >= self.pending[0]:
            when, mode = self.pending
            self.pending = None
            self._set_mode(mode, when)
        if self.settings.board_fault_per_day > 0 and self.model.boards:
            elapsed = now - self.fault_checked
            if elapsed > 1.0:
                self.fault_checked = now
                chance = 1 - math.exp(-self.settings.board_fault_per_day * elapsed / 86_400)
                if self.rng.random() < chance:
                    self.failed_boards.add(self.rng.randrange(self.model.boards))

    def _set_mode(self, mode: str, when: float) -> None:
        self.invalidate()
        self.work_ths += self._work_since_mode(when)
        self.mode, self.mode_at = mode, when

    def _work_since_mode(self, now: float) -> float:
        factor = MODE_FACTORS[self.mode][0]
        return max(0.0, now - self.mode_at) * self.model.nominal_ths * factor

    def _load(self, now: float) -> float:
        """0..1.1: the fraction of nominal hashrate right now, with the wake/boot ramp."""
        factor = MODE_FACTORS[self.mode][0]
        if factor == 0:
            return 0.0
        since = now - max(self.mode_at, self.boot_at)
        ramp = self.settings.ramp_s
        if ramp > 0 and since < ramp:
            factor *= max(0.0, since / ramp)
        working = self.model.boards - len(self.failed_boards)
        return factor * working / max(1, self.model.boards)

    def uptime(self, now: float) -> int:
        return max(0, int(now - self.boot_at))

    def is_up(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return not self.absent and now >= self.down_until

    def invalidate(self) -> None:
        self._snap = None
        self._replies.clear()

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """Everything a reply needs (cached for ``reply_refresh_s``, see __init__)."""
        now = time.monotonic() if now is None else now
        cached = self._snap
        fresh = cached and now - cached[0] < self.settings.reply_refresh_s
        if fresh and not (self.pending and now >= self.pending[0]):
            return cached[1]
        self._replies.clear()
        snap = self._compute(now)
        self._snap = (now, snap)
        return snap

    def _compute(self, now: float) -> dict[str, Any]:
        self._advance(now)
        rng = self.rng
        load = self._load(now)
        base_ghs = self.model.nominal_ths * 1000
        boards = []
        wall = time.time()
        ambient = self.settings.ambient_c + self.settings.ambient_swing_c * math.sin(
            2 * math.pi * ((wall % 86_400) / 86_400 - 0.375)
        )
        per_board_nominal = base_ghs / max(1, self.model.boards)
        mode_factor = MODE_FACTORS[self.mode][0]
        board_load = self._board_load(load)
        for index in range(self.model.boards):
            failed = index in self.failed_boards
            if failed or mode_factor == 0:
                rate, chip = 0.0, ambient + 3 + rng.gauss(0, 0.3)
            else:
                rate = per_board_nominal * board_load * (1 + rng.gauss(0, 0.012))
                chip = ambient + self.model.temp_rise_c * min(1.2, board_load) + rng.gauss(0, 0.8)
            boards.append(
                {
                    "rate": max(0.0, rate),
                    "chip": round(chip, 1),
                    "pcb": round(chip - 11 - rng.random(), 1),
                    "failed": failed,
                    "chips": self.model.chips,
                    "hw": int(self.uptime(now) * 0.002 * (index + 1)),
                }
            )
        total = sum(b["rate"] for b in boards)
        hottest = max((b["chip"] for b in boards), default=ambient)
        span = self.model.fan_max - self.model.fan_min
        if mode_factor == 0:
            fan = int(self.model.fan_min * 0.4)
        else:
            fan = int(self.model.fan_min + span * min(1.0, max(0.0, (hottest - 45) / 40)))
        fans = [max(0, fan + rng.randint(-90, 90)) for _ in range(self.model.fans)]
        power_factor = MODE_FACTORS[self.mode][1]
        if mode_factor > 0:
            power_factor *= 0.15 + 0.85 * (load / max(mode_factor, 1e-9))
        power = self.model.power_w * power_factor * (1 + rng.gauss(0, 0.004))
        work = self.work_ths + self._work_since_mode(now)
        accepted = int(work * SHARES_PER_TH_S)
        return {
            "now": now,
            "when": int(wall),
            "elapsed": self.uptime(now),
            "ghs_5s": total,
            "ghs_av": base_ghs
            * mode_factor
            * ((self.model.boards - len(self.failed_boards)) / max(1, self.model.boards)),
            "ideal": base_ghs,
            "boards": boards,
            "fans": fans,
            "ambient": round(ambient, 1),
            "temp_max": max((b["chip"] for b in boards), default=0.0),
            "power": round(power),
            "accepted": accepted,
            "rejected": accepted // 500,
            "stale": accepted // 2000,
            "hw": sum(b["hw"] for b in boards),
            "mode": self.mode,
        }

    def _board_load(self, load: float) -> float:
        # Per-board share of the whole miner's load (failed boards are already excluded).
        working = self.model.boards - len(self.failed_boards)
        return load * self.model.boards / max(1, working)

    # --- actions --------------------------------------------------------------------------

    def schedule_mode(self, mode: str, delay: float | None = None) -> None:
        self.invalidate()
        now = time.monotonic()
        delay = self.settings.mode_change_s if delay is None else delay
        if delay <= 0:
            self._advance(now)
            self._set_mode(mode, now)
        else:
            self.pending = (now + delay, mode)

    def reboot(self, down_s: float | None = None) -> None:
        """Go away for ``down_s`` seconds, then come back with fresh counters and boards."""
        self.invalidate()
        now = time.monotonic()
        self._advance(now)
        down = self.settings.reboot_s if down_s is None else down_s
        self.down_until = now + down
        self.boot_at = self.down_until
        self.mode_at = self.boot_at
        self.work_ths = 0.0
        self.failed_boards.clear()
        if self.pending:
            self.mode = self.pending[1]
            self.pending = None
        if self.on_down is not None:
            self.on_down(self, down)

    def set_absent(self, absent: bool) -> None:
        self.invalidate()
        self.absent = absent
        if self.on_down is not None:
            self.on_down(self, -1.0 if absent else 0.0)

    def fail_board(self, index: int) -> None:
        self.invalidate()
        self.failed_boards.add(index % max(1, self.model.boards))

    def set_pool(self, url: str, user: str, password: str = "x") -> None:  # noqa: S107
        self.invalidate()
        self.replace_pools(
            [{"url": url, "user": user, "pass": password}]
            + [pool for pool in self.pools if pool["url"] != url][:2]
        )

    def replace_pools(self, pools: list[dict[str, str]]) -> None:
        """A new pool list whose first entry is the one to mine on (web UI / update_pools)."""
        self.invalidate()
        self.pools = pools
        self.pool_order = list(range(len(pools)))

    @property
    def active_pool(self) -> int:
        return self.pool_order[0] if self.pool_order else 0

    # --- RPC ------------------------------------------------------------------------------

    def rpc(self, request: bytes) -> bytes:
        """Answer one RPC request the way the firmware would (without fault injection)."""
        self.requests += 1
        text_mode = not request.lstrip().startswith(b"{")
        params: Any = None
        body: dict[str, Any] = {}
        if text_mode:
            raw = request.decode("utf-8", errors="replace").strip().rstrip("\0")
            command, _, param = raw.partition("|")
            params = param or None
        else:
            try:
                body = json.loads(request.decode("utf-8", errors="replace").rstrip("\0"))
                if not isinstance(body, dict):
                    raise ValueError
            except ValueError:
                return self._encode(self._error(23, "Invalid JSON"), False)
            if self.model.vendor == "whatsminer" and body.get("enc"):
                return self._whatsminer_encrypted(body)
            command = body.get("command", body.get("cmd"))
            if not isinstance(command, str):
                return self._encode(self._error(24, "Missing JSON 'command'"), False)
            params = body.get("parameter")
        snap = self.snapshot()
        key = (command, str(params), text_mode)
        cached = self._replies.get(key)
        if cached is not None:
            return cached
        reply = self._rpc_answer(command, params, snap, body, text_mode)
        if self._cacheable(command):
            self._replies[key] = reply
        return reply

    def _cacheable(self, command: str) -> bool:
        names = command.split("+")
        return all(n in ANTMINER_READ | AVALON_READ | {"devdetails", "edevs"} for n in names)

    def _rpc_answer(
        self, command: str, params: Any, snap: dict, body: dict, text_mode: bool
    ) -> bytes:
        if "+" in command:
            names = [name for name in dict.fromkeys(command.split("+")) if name]
            if not self.spec.joins:
                return self._encode(self._invalid(), text_mode)
            joined: dict[str, Any] = {}
            for name in names:
                if self._joinable(name):
                    joined[name] = [self._answer(name, None, snap, body)]
                else:
                    joined[name] = [self._error(45, f"Access denied to '{name}' command")]
            joined["id"] = 1
            return self._encode(joined, text_mode, joined=True)
        return self._encode(self._answer(command, params, snap, body), text_mode)

    def _joinable(self, name: str) -> bool:
        if self.model.vendor == "antminer":
            return name in ANTMINER_READ
        if self.model.vendor == "whatsminer":
            return name in {"summary", "devs", "edevs", "pools", "devdetails", "version", "stats"}
        return name in AVALON_READ

    def _description(self) -> str:
        return {
            "antminer": "bmminer 1.0.0",
            "whatsminer": "btminer",
            "avalon": "cgminer 4.11.1",
        }[self.model.vendor]

    def _status(self, code: int, msg: str, letter: str = "S") -> dict[str, Any]:
        return {
            "STATUS": letter,
            "When": int(time.time()),
            "Code": code,
            "Msg": msg,
            "Description": self._description(),
        }

    def _error(self, code: int, msg: str) -> dict[str, Any]:
        return {"STATUS": [self._status(code, msg, "E")], "id": 1}

    def _invalid(self) -> dict[str, Any]:
        # cgminer leaves Description out of exactly this message.
        block = {"STATUS": "E", "When": int(time.time()), "Code": 14, "Msg": "Invalid command"}
        return {"STATUS": [block], "id": 1}

    def _reply(self, code: int, msg: str, **sections: Any) -> dict[str, Any]:
        return {"STATUS": [self._status(code, msg)], **sections, "id": 1}

    def _answer(self, command: str, params: Any, snap: dict, body: dict) -> dict[str, Any]:
        vendor = self.model.vendor
        if vendor == "antminer":
            if command in ANTMINER_READ:
                return getattr(self, f"_am_{command}")(snap)
            if command in CGMINER_KNOWN:
                return self._error(45, f"Access denied to '{command}' command")
            return self._invalid()
        if vendor == "whatsminer":
            if command in WHATSMINER_WRITE:
                return {
                    "STATUS": "E",
                    "When": int(time.time()),
                    "Code": 45,
                    "Msg": "Permission denied",
                    "Description": "",
                }
            if command in WHATSMINER_READ:
                return getattr(self, f"_wm_{command}")(snap)
            return self._invalid()
        if command in AVALON_READ:
            name = {"estats": "stats", "edevs": "devs"}.get(command, command)
            return getattr(self, f"_av_{name}")(snap)
        if command == "ascset":
            return self._av_ascset(params)
        if command == "addpool":
            return self._cg_addpool(params)
        if command == "switchpool":
            return self._cg_switchpool(params)
        if command == "restart":
            self.reboot(self.settings.reboot_s / 4)
            return {"STATUS": "RESTART", "id": 1}
        if command in CGMINER_KNOWN:
            return self._reply(45, f"Access denied to '{command}' command")
        return self._invalid()

    # --- text form ------------------------------------------------------------------------

    def _encode(self, reply: dict[str, Any], text_mode: bool, joined: bool = False) -> bytes:
        if not text_mode:
            data = speedups.dumps(reply)
            if self.model.missing_stats_comma and b'},{"STATS":0' in data:
                data = data.replace(b'},{"STATS":0', b'}{"STATS":0', 1)
            return data + b"\0"
        if joined:
            parts = []
            for name, value in reply.items():
                if name != "id":
                    parts.append(f"CMD={name}|" + self._text(value[0]))
            return "".join(parts).encode() + b"\0"
        return self._text(reply).encode() + b"\0"

    @staticmethod
    def _escape(value: Any) -> str:
        out = str(value).lower() if isinstance(value, bool) else str(value)
        for char in "\\|,=":
            out = out.replace(char, "\\" + char)
        return out

    def _text(self, reply: dict[str, Any]) -> str:
        esc = self._escape
        records = []
        status = reply.get("STATUS")
        if isinstance(status, list):
            records.append(",".join(f"{k}={esc(v)}" for k, v in status[0].items()))
        else:
            records.append(f"STATUS={esc(status)}")
        for name, items in reply.items():
            if name in ("STATUS", "id") or not isinstance(items, list):
                continue
            for item in items:
                keys = list(item)
                if keys and keys[0] in ("POOL", "ASC", "STATS", "DEVDETAILS"):
                    records.append(",".join(f"{k}={esc(v)}" for k, v in item.items()))
                else:
                    fields = ",".join(f"{k}={esc(v)}" for k, v in item.items())
                    records.append(f"{name},{fields}" if fields else name)
        return "|".join(records) + "|"

    # --- Antminer (bmminer) ---------------------------------------------------------------

    def _rate(self, value: float) -> float | str:
        value = round(value, 2)
        return f"{value:.2f}" if self.model.string_numbers else value

    def _am_version(self, snap: dict) -> dict[str, Any]:
        return self._reply(22, "BMMiner versions", VERSION=[self._am_version_block()])

    def _am_version_block(self) -> dict[str, Any]:
        return {
            "BMMiner": "1.0.0",
            "API": self.model.api,
            "Miner": "49.0.1.3",
            "CompileTime": self.model.firmware,
            "Type": self.model.name,
        }

    def _am_summary(self, snap: dict) -> dict[str, Any]:
        elapsed = snap["elapsed"]
        accepted, rejected = snap["accepted"], snap["rejected"]
        diff = 65536.0
        summary = {
            "Elapsed": elapsed,
            "GHS 5s": self._rate(snap["ghs_5s"]),
            "GHS av": self._rate(snap["ghs_av"]),
            "GHS 30m": self._rate(snap["ghs_av"]),
            "Found Blocks": 0,
            "Getworks": elapsed // 30,
            "Accepted": accepted,
            "Rejected": rejected,
            "Hardware Errors": snap["hw"],
            "Utility": round(accepted / max(1, elapsed) * 60, 2),
            "Discarded": elapsed // 10,
            "Stale": snap["stale"],
            "Get Failures": 0,
            "Local Work": elapsed * 40,
            "Remote Failures": 0,
            "Network Blocks": elapsed // 600,
            "Total MH": round(snap["ghs_av"] * elapsed * 1000, 4),
            "Work Utility": round(snap["ghs_av"] * 13.97, 2),
            "Difficulty Accepted": accepted * diff,
            "Difficulty Rejected": rejected * diff,
            "Difficulty Stale": snap["stale"] * diff,
            "Best Share": int(accepted * 7919) + 1,
            "Device Hardware%": round(snap["hw"] / max(1, accepted * 100) * 100, 4),
            "Device Rejected%": round(rejected / max(1, accepted) * 100, 4),
            "Pool Rejected%": round(rejected / max(1, accepted) * 100, 4),
            "Pool Stale%": round(snap["stale"] / max(1, accepted) * 100, 4),
            "Last getwork": snap["when"],
        }
        return self._reply(11, "Summary", SUMMARY=[summary])

    def _am_stats(self, snap: dict) -> dict[str, Any]:
        device: dict[str, Any] = {
            "STATS": 0,
            "ID": "BTM_SOC0",
            "Elapsed": snap["elapsed"],
            "Calls": 0,
            "Wait": 0.0,
            "Max": 0.0,
            "Min": 99999999.0,
            "GHS 5s": self._rate(snap["ghs_5s"]),
            "GHS av": self._rate(snap["ghs_av"]),
            "rate_30m": round(snap["ghs_av"], 2),
            "Mode": 2,
            "miner_count": self.model.boards,
            "frequency": 675,
            "fan_num": self.model.fans,
        }
        for i in range(4 if self.model.fans > 2 else 8):
            device[f"fan{i + 1}"] = snap["fans"][i] if i < len(snap["fans"]) else 0
        device["temp_num"] = self.model.boards
        for i, board in enumerate(snap["boards"], 1):
            device[f"temp{i}"] = int(board["pcb"])
        for i, board in enumerate(snap["boards"], 1):
            device[f"temp2_{i}"] = int(board["chip"])
        for i, board in enumerate(snap["boards"], 1):
            pcb = int(board["pcb"])
            device[f"temp_pcb{i}"] = f"{pcb - 2}-{pcb - 3}-{pcb}-{pcb - 1}"
        for i, board in enumerate(snap["boards"], 1):
            chip = int(board["chip"])
            device[f"temp_chip{i}"] = f"{chip - 2}-{chip - 3}-{chip}-{chip - 1}"
        device["temp_max"] = int(snap["temp_max"])
        device["total_rateideal"] = round(snap["ideal"], 2)
        device["rate_unit"] = "GH"
        device["total_freqavg"] = 675.0
        device["total_acn"] = self.model.boards * self.model.chips
        device["total rate"] = round(snap["ghs_5s"], 2)
        sleeping = snap["mode"] == "sleep"
        for i, board in enumerate(snap["boards"], 1):
            device[f"chain_acn{i}"] = board["chips"]
            bad = sleeping or board["failed"]
            chips = ("x" if bad else "o") * board["chips"]
            device[f"chain_acs{i}"] = " ".join(chips[j : j + 8] for j in range(0, len(chips), 8))
            device[f"chain_hw{i}"] = board["hw"]
            device[f"chain_rate{i}"] = f"{board['rate']:.2f}"
            device[f"freq{i}"] = 675
        device["no_matching_work"] = snap["hw"]
        device["miner_version"] = "49.0.1.3"
        device["miner_id"] = self.serial.lower()
        return self._reply(70, "BMMiner stats", STATS=[self._am_version_block(), device])

    def _pool_records(self, snap: dict, bmminer: bool) -> list[dict[str, Any]]:
        records = []
        for index, pool in enumerate(self.pools):
            active = index == self.active_pool
            accepted = snap["accepted"] if active else 0
            record = {
                "POOL": index,
                "URL": pool["url"],
                "Status": "Alive",
                "Priority": self.pool_order.index(index) if index in self.pool_order else index,
                "Quota": 1,
                "Long Poll": "N",
                "Getworks": snap["elapsed"] // 30 if active else 0,
                "Accepted": accepted,
                "Rejected": snap["rejected"] if active else 0,
                "Discarded": snap["elapsed"] // 10 if active else 0,
                "Stale": snap["stale"] if active else 0,
                "Get Failures": 0,
                "Remote Failures": 0,
                "User": pool["user"],
                "Last Share Time": "0:00:02" if bmminer else snap["when"] - 2,
                "Diff": "65.5K" if bmminer else 65536.0,
                "Diff1 Shares": accepted * 65536,
                "Proxy Type": "",
                "Proxy": "",
                "Difficulty Accepted": accepted * 65536.0,
                "Difficulty Rejected": (snap["rejected"] if active else 0) * 65536.0,
                "Difficulty Stale": 0.0,
                "Last Share Difficulty": 65536.0 if active else 0.0,
                "Has Stratum": True,
                "Stratum Active": active,
                "Stratum URL": pool["url"].split("//")[-1].split(":")[0] if active else "",
                "Has GBT": False,
                "Best Share": accepted * 7919 if active else 0,
                "Pool Rejected%": 0.2 if active else 0.0,
            }
            # bmminer really does print the double percent sign.
            record["Pool Stale%%" if bmminer else "Pool Stale%"] = 0.05 if active else 0.0
            if not bmminer:
                record["Works"] = snap["elapsed"] * 40 if active else 0
            records.append(record)
        return records

    def _am_pools(self, snap: dict) -> dict[str, Any]:
        pools = self._pool_records(snap, bmminer=True)
        return self._reply(7, f"{len(pools)} Pool(s)", POOLS=pools)

    def _am_devs(self, snap: dict) -> dict[str, Any]:
        devs = []
        for i, board in enumerate(snap["boards"]):
            devs.append(
                {
                    "ASC": i,
                    "Name": "BTM_SOC",
                    "ID": i,
                    "Enabled": "Y",
                    "Status": "Dead" if board["failed"] else "Alive",
                    "Temperature": board["pcb"],
                    "MHS av": round(board["rate"] * 1000, 2),
                    "MHS 5s": round(board["rate"] * 1000, 2),
                    "Accepted": snap["accepted"] // max(1, len(snap["boards"])),
                    "Rejected": snap["rejected"] // max(1, len(snap["boards"])),
                    "Hardware Errors": board["hw"],
                    "Device Elapsed": snap["elapsed"],
                }
            )
        return self._reply(9, f"{len(devs)} ASC(s)", DEVS=devs)

    # --- Antminer web CGI -----------------------------------------------------------------

    def web(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any] | str]:
        """Answer an authenticated ``/cgi-bin/*.cgi`` request: (status, JSON or HTML)."""
        snap = self.snapshot()
        mode_code = ANTMINER_MODE_CODES.get(self.mode, 0)
        info = {"miner_version": "49.0.1.3", "CompileTime": self.model.firmware}
        info["type"] = self.model.name
        status = {"STATUS": "S", "when": snap["when"], "api_version": "1.0.0"}
        name = path.rsplit("/", 1)[-1].removesuffix(".cgi")
        if path == "/" or path == "/index.html":
            return 200, f"<html><head><title>{self.model.name}</title></head></html>"
        if not path.startswith("/cgi-bin/"):
            return 404, "<html><body>404 Not Found</body></html>"
        if method == "POST" and name == "set_miner_conf":
            return 200, self._set_miner_conf(body)
        if method == "POST" and name == "blink":
            self.invalidate()
            try:
                self.blink = str(json.loads(body or b"{}").get("blink")).lower() == "true"
            except (ValueError, AttributeError):
                return 200, {"code": "B100"}
            return 200, {"code": "B000"}
        if name == "reboot":
            self.reboot()
            return 200, {"stats": "success", "code": "R000", "msg": "OK!"}
        if name == "get_system_info":
            return 200, {
                "minertype": self.model.name,
                "nettype": "DHCP",
                "netdevice": "eth0",
                "macaddr": self.mac,
                "hostname": "Antminer",
                "ipaddress": self.ip,
                "netmask": "255.0.0.0",
                "gateway": "",
                "dnsservers": "",
                "system_mode": "GNU/Linux",
                "system_kernel_version": "Linux 4.9.113 #1 SMP PREEMPT",
                "system_filesystem_version": self.model.firmware,
                "firmware_type": "Release",
                "serinum": self.serial,
            }
        if name == "get_network_info":
            return 200, {
                "nettype": "DHCP",
                "netdevice": "eth0",
                "macaddr": self.mac,
                "ipaddress": self.ip,
                "netmask": "255.0.0.0",
                "conf_nettype": "DHCP",
                "conf_hostname": "Antminer",
                "conf_ipaddress": "",
                "conf_netmask": "",
                "conf_gateway": "",
                "conf_dnsservers": "",
            }
        if name == "get_blink_status":
            return 200, {"blink": self.blink}
        if name == "get_miner_conf":
            return 200, {
                "pools": [dict(pool) for pool in self.pools],
                "api-listen": True,
                "api-network": True,
                "api-groups": "A:stats:pools:devs:summary:version",
                "api-allow": "A:0/0,W:*",
                "bitmain-fan-ctrl": False,
                "bitmain-fan-pwm": "100",
                "bitmain-use-vil": True,
                "bitmain-freq": "675",
                "bitmain-voltage": "1400",
                "bitmain-ccdelay": "0",
                "bitmain-pwth": "0",
                "bitmain-work-mode": str(mode_code),
                "bitmain-freq-level": "100",
            }
        if name == "summary":
            faults = [
                {
                    "type": "rate",
                    "status": "s" if snap["ghs_5s"] > 0 else "e",
                    "code": 0,
                    "msg": "",
                },
                {"type": "network", "status": "s", "code": 0, "msg": ""},
                {"type": "fans", "status": "s", "code": 0, "msg": ""},
                {"type": "temp", "status": "s", "code": 0, "msg": ""},
            ]
            if self.failed_boards:
                faults[0] = {"type": "rate", "status": "e", "code": 131, "msg": "chain lost"}
            return 200, {
                "STATUS": {**status, "Msg": "summary"},
                "INFO": info,
                "SUMMARY": [
                    {
                        "elapsed": snap["elapsed"],
                        "rate_5s": round(snap["ghs_5s"], 2),
                        "rate_30m": round(snap["ghs_av"], 2),
                        "rate_avg": round(snap["ghs_av"], 2),
                        "rate_ideal": round(snap["ideal"], 2),
                        "rate_unit": "GH/s",
                        "hw_all": snap["hw"],
                        "bestshare": snap["accepted"] * 7919,
                        "status": faults,
                    }
                ],
            }
        if name == "stats":
            sleeping = snap["mode"] == "sleep"
            chains = []
            for i, board in enumerate(snap["boards"]):
                pcb, chip = int(board["pcb"]), int(board["chip"])
                bad = sleeping or board["failed"]
                chains.append(
                    {
                        "index": i,
                        "freq_avg": 675,
                        "rate_ideal": round(snap["ideal"] / len(snap["boards"]), 2),
                        "rate_real": round(board["rate"], 2),
                        "asic_num": board["chips"],
                        "asic": ("x" if bad else "o") * board["chips"],
                        "temp_pic": [pcb - 5, pcb - 6, pcb - 4, pcb - 5],
                        "temp_pcb": [pcb - 2, pcb - 3, pcb, pcb - 1],
                        "temp_chip": [chip - 2, chip - 3, chip, chip - 1],
                        "hw": board["hw"],
                        "eeprom_loaded": True,
                        "sn": self.board_serials[i],
                        "hwp": 0.0,
                    }
                )
            return 200, {
                "STATUS": {**status, "Msg": "stats"},
                "INFO": info,
                "STATS": [
                    {
                        "elapsed": snap["elapsed"],
                        "rate_5s": round(snap["ghs_5s"], 2),
                        "rate_30m": round(snap["ghs_av"], 2),
                        "rate_avg": round(snap["ghs_av"], 2),
                        "rate_ideal": round(snap["ideal"], 2),
                        "rate_unit": "GH/s",
                        "chain_num": len(chains),
                        "fan_num": self.model.fans,
                        "fan": snap["fans"],
                        "hwp_total": 0.0,
                        "miner-mode": mode_code,
                        "freq-level": 100,
                        "chain": chains,
                    }
                ],
            }
        if name == "pools":
            pools = [
                {
                    "index": p["POOL"],
                    "url": p["URL"],
                    "user": p["User"],
                    "status": p["Status"],
                    "priority": p["Priority"],
                    "getworks": p["Getworks"],
                    "accepted": p["Accepted"],
                    "rejected": p["Rejected"],
                    "discarded": p["Discarded"],
                    "stale": p["Stale"],
                    "diff": p["Diff"],
                    "diff1": p["Diff1 Shares"],
                    "diffa": p["Difficulty Accepted"],
                    "diffr": p["Difficulty Rejected"],
                    "diffs": p["Difficulty Stale"],
                    "lsdiff": p["Last Share Difficulty"],
                    "lstime": p["Last Share Time"],
                }
                for p in self._pool_records(snap, bmminer=True)
            ]
            return 200, {"STATUS": {**status, "Msg": "pools"}, "INFO": info, "POOLS": pools}
        return 404, "<html><body>404 Not Found</body></html>"

    def _set_miner_conf(self, body: bytes) -> dict[str, Any]:
        self.invalidate()
        try:
            conf = json.loads(body or b"{}")
            if not isinstance(conf, dict):
                raise ValueError
        except ValueError:
            return {"stats": "error", "code": "M001", "msg": "Invalid JSON"}
        if "miner-mode" in conf:
            try:
                mode = ANTMINER_CODE_MODES[int(conf["miner-mode"])]
            except (KeyError, TypeError, ValueError):
                return {"stats": "error", "code": "M002", "msg": "Invalid miner-mode"}
            if mode != self.mode:
                self.schedule_mode(mode)
        pools = conf.get("pools")
        if isinstance(pools, list) and pools and all(isinstance(p, dict) for p in pools):
            self.replace_pools(
                [
                    {"url": str(p.get("url", "")), "user": str(p.get("user", "")), "pass": "x"}
                    for p in pools[:3]
                ]
            )
        return {"stats": "success", "code": "M000", "msg": "OK!"}

    # --- Whatsminer (btminer API v2) ------------------------------------------------------

    def _wm_top(self, code: int, msg: Any, letter: str = "S") -> dict[str, Any]:
        return {"STATUS": letter, "When": int(time.time()), "Code": code, "Msg": msg}

    def _wm_version(self, snap: dict) -> dict[str, Any]:
        return self._reply(22, "CGMiner versions", VERSION=[{"CGMiner": "4.9.2", "API": "3.7"}])

    def _wm_get_version(self, snap: dict) -> dict[str, Any]:
        msg = {"api_ver": "2.0.5", "fw_ver": self.model.firmware, "platform": "H6OS"}
        msg["chip"] = "K210"
        return {**self._wm_top(131, msg), "Description": ""}

    def _wm_status(self, snap: dict) -> dict[str, Any]:
        off = "true" if snap["mode"] == "sleep" else "false"
        msg = {"btmineroff": off, "Firmware Version": f"'{self.model.firmware}'"}
        return {**self._wm_top(131, msg), "Description": ""}

    def _wm_get_token(self, snap: dict) -> dict[str, Any]:
        stamp = str(int(time.time()) % 10_000)
        newsalt = "".join(secrets.choice(string.ascii_letters) for _ in range(8))
        self.wm_tokens[stamp] = (newsalt, time.monotonic())
        msg = {"time": stamp, "salt": self.wm_salt, "newsalt": newsalt}
        return {**self._wm_top(134, msg), "Description": ""}

    def _wm_get_psu(self, snap: dict) -> dict[str, Any]:
        msg = {"name": "P221B", "hw_version": "V01.00", "sw_version": "V01.00.V01.03"}
        msg |= {"model": "P221B", "iin": "14", "vin": "228", "fan_speed": "7680"}
        return {**self._wm_top(131, msg), "Description": ""}

    def _wm_get_miner_info(self, snap: dict) -> dict[str, Any]:
        msg = {"ip": self.ip, "proto": "dhcp", "netmask": "255.0.0.0", "mac": self.mac}
        msg |= {"hostname": "WhatsMiner", "ledstat": "auto", "minersn": self.serial}
        return {**self._wm_top(131, msg), "Description": ""}

    def _wm_get_error_code(self, snap: dict) -> dict[str, Any]:
        codes = [{str(300 + b): "board fault"} for b in sorted(self.failed_boards)]
        return {**self._wm_top(131, {"error_code": codes}), "Description": ""}

    def _wm_summary(self, snap: dict) -> dict[str, Any]:
        mhs5, mhsav = snap["ghs_5s"] * 1000, snap["ghs_av"] * 1000
        chips = [b["chip"] for b in snap["boards"]] or [0.0]
        summary = {
            "Elapsed": snap["elapsed"],
            "MHS av": round(mhsav, 2),
            "MHS 5s": round(mhs5, 2),
            "MHS 1m": round(mhs5, 2),
            "MHS 5m": round(mhsav, 2),
            "MHS 15m": round(mhsav, 2),
            "HS RT": round(mhs5, 2),
            "Accepted": snap["accepted"],
            "Rejected": snap["rejected"],
            "Total MH": round(mhsav * snap["elapsed"], 2),
            "Temperature": round(sum(chips) / len(chips) - 8, 2),
            "freq_avg": 587,
            "Fan Speed In": snap["fans"][0] if snap["fans"] else 0,
            "Fan Speed Out": snap["fans"][-1] if snap["fans"] else 0,
            "Power": snap["power"],
            "Power Rate": round(snap["power"] / max(1.0, snap["ghs_5s"] / 1000), 2),
            "Pool Rejected%": round(snap["rejected"] / max(1, snap["accepted"]) * 100, 4),
            "Pool Stale%": 0.0,
            "Last getwork": snap["when"],
            "Uptime": snap["elapsed"] + 95,
            "Security Mode": 0,
            "Hash Stable": True,
            "Hash Stable Cost Seconds": 1251,
            "Hash Deviation%": 0.12,
            "Target Freq": 587,
            "Target MHS": round(snap["ideal"] * 1000 * MODE_FACTORS[self._wm_mode()][0], 2),
            "Env Temp": snap["ambient"],
            "Power Mode": self._wm_mode().capitalize(),
            "Factory GHS": int(snap["ideal"]),
            "Power Limit": self.power_limit,
            "Chip Temp Min": min(chips) - 6,
            "Chip Temp Max": max(chips),
            "Chip Temp Avg": round(sum(chips) / len(chips) - 3, 2),
            "Debug": "-0.0_100.0_364",
            "Btminer Fast Boot": "disable",
            "MAC": self.mac,
            "Firmware Version": f"'{self.model.firmware}'",
        }
        for n, board in enumerate(sorted(self.failed_boards)):
            summary[f"Error Code {n}"] = 300 + board
        return self._reply(11, "Summary", SUMMARY=[summary])

    def _wm_mode(self) -> str:
        # Sleep is reported through 'status'; the power mode sticks to the last real one.
        return getattr(self, "wm_power_mode", "normal")

    def _wm_devs(self, snap: dict) -> dict[str, Any]:
        devs = []
        for i, board in enumerate(snap["boards"]):
            mhs = round(board["rate"] * 1000, 2)
            devs.append(
                {
                    "ASC": i,
                    "Name": "SM",
                    "ID": i,
                    "Slot": i,
                    "Enabled": "Y",
                    "Status": "Dead" if board["failed"] else "Alive",
                    "Temperature": board["pcb"],
                    "Chip Frequency": 587,
                    "Fan Speed In": snap["fans"][0] if snap["fans"] else 0,
                    "Fan Speed Out": snap["fans"][-1] if snap["fans"] else 0,
                    "MHS av": mhs,
                    "MHS 5s": mhs,
                    "MHS 1m": mhs,
                    "MHS 5m": mhs,
                    "MHS 15m": mhs,
                    "Accepted": snap["accepted"] // max(1, len(snap["boards"])),
                    "Rejected": snap["rejected"] // max(1, len(snap["boards"])),
                    "Hardware Errors": board["hw"],
                    "Utility": 0.0,
                    "Last Share Pool": 0,
                    "Last Share Time": snap["when"] - 3,
                    "Total MH": round(mhs * snap["elapsed"], 2),
                    "Diff1 Work": 0,
                    "Difficulty Accepted": 0.0,
                    "Difficulty Rejected": 0.0,
                    "Last Share Difficulty": 65536.0,
                    "Last Valid Work": snap["when"] - 1,
                    "Device Hardware%": 0.0,
                    "Device Rejected%": 0.0,
                    "Device Elapsed": snap["elapsed"],
                    "Upfreq Complete": 1,
                    "Effective Chips": 0 if board["failed"] else board["chips"],
                    "PCB SN": self.board_serials[i],
                    "Chip Temp Min": board["chip"] - 6,
                    "Chip Temp Max": board["chip"],
                    "Chip Temp Avg": board["chip"] - 3,
                    "chip_vol_diff": 7,
                }
            )
        return self._reply(9, f"{len(devs)} ASC(s)", DEVS=devs)

    def _wm_edevs(self, snap: dict) -> dict[str, Any]:
        return self._wm_devs(snap)

    def _wm_stats(self, snap: dict) -> dict[str, Any]:
        return self._reply(70, "CGMiner stats", STATS=[{"STATS": 0, "ID": "bitmicro0"}])

    def _wm_pools(self, snap: dict) -> dict[str, Any]:
        pools = self._pool_records(snap, bmminer=False)
        return self._reply(7, f"{len(pools)} Pool(s)", POOLS=pools)

    def _wm_devdetails(self, snap: dict) -> dict[str, Any]:
        details = [
            {
                "DEVDETAILS": i,
                "Name": "SM",
                "ID": i,
                "Driver": "bitmicro",
                "Kernel": "",
                "Model": self.model.detail_model,
            }
            for i in range(self.model.boards)
        ]
        return self._reply(69, "Device Details", DEVDETAILS=details)

    def _whatsminer_encrypted(self, body: dict[str, Any]) -> bytes:
        password = self.settings.whatsminer_password
        key = btminer_crypto.session_key(password, self.wm_salt)
        denied = {**self._wm_top(45, "Permission denied", "E"), "Description": ""}
        try:
            command = btminer_crypto.decrypt(key, str(body.get("data", "")))
        except (ValueError, UnicodeDecodeError):
            return (_dumps(denied) + "\0").encode()
        token = str(command.get("token", ""))
        now = time.monotonic()
        valid = any(
            now - issued < 1800
            and btminer_crypto.sign_token(password, self.wm_salt, stamp, newsalt) == token
            for stamp, (newsalt, issued) in list(self.wm_tokens.items())
        )
        if not valid:
            reply = {**self._wm_top(135, "check token err", "E"), "Description": ""}
            return (_dumps({"enc": btminer_crypto.encrypt(key, reply)}) + "\0").encode()
        result = self._wm_write(str(command.get("cmd", "")), command)
        return (_dumps({"enc": btminer_crypto.encrypt(key, result)}) + "\0").encode()

    def _wm_write(self, cmd: str, body: dict[str, Any]) -> dict[str, Any]:
        self.invalidate()
        ok = {**self._wm_top(131, "API command OK"), "Description": ""}
        if cmd == "power_off":
            self.schedule_mode("sleep")
        elif cmd == "power_on":
            self.schedule_mode(self._wm_mode())
        elif cmd in ("reboot", "restart_btminer"):
            self.reboot(None if cmd == "reboot" else self.settings.reboot_s / 4)
        elif cmd in ("set_low_power", "set_normal_power", "set_high_power"):
            mode = cmd.split("_")[1]
            self.wm_power_mode = mode
            if self.mode != "sleep":
                self.schedule_mode(mode)
        elif cmd == "adjust_power_limit":
            try:
                self.power_limit = int(body.get("power_limit"))
            except (TypeError, ValueError):
                return {**self._wm_top(14, "invalid power_limit", "E"), "Description": ""}
        elif cmd == "update_pools":
            pools = []
            for n in (1, 2, 3):
                url = body.get(f"pool{n}")
                if url:
                    user = str(body.get(f"worker{n}", ""))
                    pools.append({"url": str(url), "user": user, "pass": "x"})
            if pools:
                self.replace_pools(pools)
        elif cmd in ("set_led", "update_pwd"):
            pass
        else:
            return {**self._wm_top(14, "Invalid command", "E"), "Description": ""}
        return ok

    # --- Whatsminer API v3 (4433) ---------------------------------------------------------

    def v3(self, payload: bytes) -> bytes:
        """Answer one API v3 request frame's payload; returns the framed reply."""
        self.requests += 1
        try:
            body = json.loads(payload)
            if not isinstance(body, dict):
                raise ValueError
        except (ValueError, RecursionError):
            return btminer_v3.frame(self._v3_reply(-1, "invalid json", ""))
        cmd = body.get("cmd")
        if not isinstance(cmd, str) or not cmd:
            return btminer_v3.frame(self._v3_reply(-1, "missing cmd", ""))
        param = body.get("param")
        if cmd.startswith("set."):
            reply = self._v3_write(cmd, param, body)
            self.invalidate()
            return btminer_v3.frame(reply)
        key = ("v3", cmd, str(param), False)
        snap = self.snapshot()
        cached = self._replies.get(key)
        if cached is not None:
            return cached
        reply = btminer_v3.frame(self._v3_read(cmd, param, snap))
        self._replies[key] = reply
        return reply

    @staticmethod
    def _v3_reply(code: int, msg: Any, cmd: str) -> dict[str, Any]:
        return {"code": code, "when": int(time.time()), "msg": msg, "desc": cmd}

    def _v3_read(self, cmd: str, param: Any, snap: dict) -> dict[str, Any]:
        if cmd == "get.device.info":
            info = self._v3_device_info(snap)
            if isinstance(param, str) and param:
                if param not in info:
                    return self._v3_reply(-2, f"invalid param {param}", cmd)
                info = {param: info[param]}
            return self._v3_reply(0, info, cmd)
        if cmd == "get.miner.status":
            sections = {"summary": self._v3_summary, "edevs": self._v3_edevs}
            sections["pools"] = self._v3_pools
            wanted = [p.strip() for p in str(param or "").split(",") if p.strip()]
            if not wanted or any(p not in sections for p in wanted):
                return self._v3_reply(-2, f"invalid param {param}", cmd)
            return self._v3_reply(0, {p: sections[p](snap) for p in wanted}, cmd)
        if cmd == "get.miner.setting":
            msg = {"power-limit": self.power_limit, "upfreq-speed": 0}
            msg |= {"power-mode": self._wm_mode(), "fast-boot": "disable", "target-freq": 0}
            msg |= {"fast-mining": "disable", "power": self.power_limit, "power-percent": 0}
            return self._v3_reply(0, msg, cmd)
        return self._v3_reply(-1, "invalid command", cmd)

    def _v3_device_info(self, snap: dict) -> dict[str, Any]:
        boards = len(snap["boards"])
        miner = {
            "working": "false" if snap["mode"] == "sleep" else "true",
            "type": self.model.detail_model,
            "hash-board": self.model.detail_model.rsplit("_", 1)[-1][1:],
            "detect-hash-rate": ":".join(str(int(b["rate"])) for b in snap["boards"]),
            "cointype": "BTC/BCH/BSV",
            "pool-strategy": "FAILOVER",
            "heatmode": "",
            "hash-percent": "",
            "fast-boot": "disable",
            "board-num": str(boards),
        }
        for i in range(boards):
            miner[f"pcbsn{i}"] = self.board_serials[i]
        miner["miner-sn"] = self.serial
        miner["power-limit-set"] = str(self.power_limit)
        miner["web-pool"] = 1
        return {
            "network": {
                "ip": self.ip,
                "proto": "dhcp",
                "netmask": "255.0.0.0",
                "dns": "",
                "mac": self.mac,
                "gateway": "",
                "hostname": "WhatsMiner",
            },
            "miner": miner,
            "system": {
                "api": self.model.api,
                "platform": "H616",
                "fwversion": self.model.firmware,
                "control-board-version": "CB6V10",
                "apiswitch": "1",
                "ledstatus": "manual" if self.blink else "auto",
            },
            "power": {
                "type": "P221B",
                "mode": "1",
                "model": "P221B",
                "pin": snap["power"],
                "fanspeed": snap["fans"][0] if snap["fans"] else 0,
                "sn": f"PSU{self.serial[4:]}",
            },
            "salt": self.wm_salt,
            "error-code": [{str(300 + b): "hashboard lost"} for b in sorted(self.failed_boards)],
        }

    def _v3_summary(self, snap: dict) -> dict[str, Any]:
        chips = [b["chip"] for b in snap["boards"]] or [snap["ambient"]]
        return {
            "elapsed": snap["elapsed"],
            "hash-realtime": round(snap["ghs_5s"] / 1000, 3),
            "hash-average": round(snap["ghs_av"] / 1000, 3),
            "factory-hash": round(snap["ideal"] / 1000, 3),
            "power-realtime": snap["power"],
            "power-limit": self.power_limit,
            "fan-speed-in": snap["fans"][0] if snap["fans"] else 0,
            "fan-speed-out": snap["fans"][-1] if snap["fans"] else 0,
            "environment-temperature": snap["ambient"],
            "chip-temp-max": max(chips),
        }

    def _v3_edevs(self, snap: dict) -> list[dict[str, Any]]:
        return [
            {
                "hash-average": round(b["rate"] / 1000, 3),
                "effective-chips": 0 if b["failed"] else b["chips"],
                "chip-temp-min": round(b["chip"] - 6, 1),
                "chip-temp-max": b["chip"],
            }
            for b in snap["boards"]
        ]

    def _v3_pools(self, snap: dict) -> list[dict[str, Any]]:
        return [
            {
                "url": pool["url"],
                "account": pool["user"],
                "status": "alive",
                "stratum-active": index == self.active_pool,
            }
            for index, pool in enumerate(self.pools)
        ]

    def _v3_write(self, cmd: str, param: Any, body: dict[str, Any]) -> dict[str, Any]:
        ts = body.get("ts")
        expected = None
        if isinstance(ts, int) and not isinstance(ts, bool):
            password = self.settings.whatsminer_v3_password
            expected = btminer_v3.token(cmd, password, self.wm_salt, ts)
        if (
            body.get("account") != btminer_v3.ACCOUNT
            or expected is None
            or abs(ts - time.time()) > 300  # type: ignore[operator]
            or not secrets.compare_digest(str(body.get("token", "")), expected)
        ):
            return self._v3_reply(-4, "invalid token", cmd)
        if cmd == "set.system.reboot":
            self.reboot()
        elif cmd == "set.miner.service":
            if param == "stop":
                self.schedule_mode("sleep")
            elif param == "start":
                self.schedule_mode(self._wm_mode())
            elif param == "restart":
                self.reboot(self.settings.reboot_s / 4)
            else:
                return self._v3_reply(-2, f"invalid param {param}", cmd)
        elif cmd == "set.miner.power_limit":
            if isinstance(param, bool) or not isinstance(param, int | str):
                return self._v3_reply(-2, "invalid param", cmd)
            try:
                watts = int(param)
            except ValueError:
                return self._v3_reply(-2, "invalid param", cmd)
            if not 100 <= watts <= 10_000:
                return self._v3_reply(-2, "power limit out of range", cmd)
            self.power_limit = watts
        elif cmd == "set.miner.power_mode":
            if param not in ("low", "normal", "high"):
                return self._v3_reply(-2, f"invalid param {param}", cmd)
            self.wm_power_mode = param
            if self.mode != "sleep":
                self.schedule_mode(param)
        elif cmd == "set.miner.pools":
            if (
                not isinstance(param, list)
                or not param
                or not all(isinstance(p, dict) and p.get("pool") for p in param)
            ):
                return self._v3_reply(-2, "invalid param", cmd)
            self.replace_pools(
                [
                    {"url": str(p["pool"]), "user": str(p.get("worker", "")), "pass": "x"}
                    for p in param[:3]
                ]
            )
        elif cmd == "set.system.led":
            self.blink = param != "auto"
        else:
            return self._v3_reply(-1, "invalid command", cmd)
        return self._v3_reply(0, "ok", cmd)

    # --- Avalon ---------------------------------------------------------------------------

    def _av_version(self, snap: dict) -> dict[str, Any]:
        version = {
            "CGMiner": "4.11.1",
            "API": self.model.api,
            "STM8": "20.08.01",
            "PROD": self.model.name,
            "MODEL": self.model.name.split()[-1],
            "HWTYPE": "MM4v2_X3",
            "SWTYPE": "MM314",
            "VERSION": self.model.firmware,
            "LOADER": "d0d779de.00",
            "DNA": "020100003b6d3c06",
            "MAC": self.mac.replace(":", "").lower(),
            "UPAPI": "2",
        }
        return self._reply(22, "CGMiner versions", VERSION=[version])

    def _av_summary(self, snap: dict) -> dict[str, Any]:
        mhs5, mhsav = snap["ghs_5s"] * 1000, snap["ghs_av"] * 1000
        summary = {
            "Elapsed": snap["elapsed"],
            "MHS av": round(mhsav, 2),
            "MHS 30s": round(mhs5, 2),
            "MHS 1m": round(mhs5, 2),
            "MHS 5m": round(mhsav, 2),
            "MHS 15m": round(mhsav, 2),
            "Found Blocks": 0,
            "Getworks": snap["elapsed"] // 30,
            "Accepted": snap["accepted"],
            "Rejected": snap["rejected"],
            "Hardware Errors": snap["hw"],
            "Utility": 0.0,
            "Discarded": 0,
            "Stale": snap["stale"],
            "Get Failures": 0,
            "Local Work": 0,
            "Remote Failures": 0,
            "Network Blocks": 0,
            "Total MH": round(mhsav * snap["elapsed"], 4),
            "Work Utility": 0.0,
            "Difficulty Accepted": snap["accepted"] * 65536.0,
            "Difficulty Rejected": snap["rejected"] * 65536.0,
            "Difficulty Stale": 0.0,
            "Best Share": snap["accepted"] * 7919,
            "Device Hardware%": 0.0,
            "Device Rejected%": 0.0,
            "Pool Rejected%": 0.0,
            "Pool Stale%": 0.0,
            "Last getwork": snap["when"],
        }
        # Avalon's cgminer names its short window after the log interval: "MHS 30s".
        summary["MHS 5s"] = summary.pop("MHS 30s")
        return self._reply(11, "Summary", SUMMARY=[summary])

    def _av_stats(self, snap: dict) -> dict[str, Any]:
        boards = snap["boards"]
        level = {"low": 0, "normal": 1, "high": 2}.get(getattr(self, "av_level", "normal"), 1)
        fans = " ".join(f"Fan{i + 1}[{rpm}]" for i, rpm in enumerate(snap["fans"]))
        ghs = " ".join(f"{b['rate']:.2f}" for b in boards)
        tmax = " ".join(str(int(b["chip"])) for b in boards)
        tavg = " ".join(str(int(b["chip"] - 6)) for b in boards)
        sleeping = 1 if snap["mode"] == "sleep" else 0
        echu = " ".join("512" if b["failed"] else "0" for b in boards)
        mm = (
            f"Ver[{self.model.name.split()[-1]}-83-{self.model.firmware}] "
            f"DNA[020100003b6d3c06] Elapsed[{snap['elapsed']}] MW[0 0 0] LW[{snap['accepted']}] "
            f"MH[0 0 0] HW[{snap['hw']}] DH[1.2%] Temp[{int(snap['ambient'])}] "
            f"TMax[{int(snap['temp_max'])}] TAvg[{int(snap['temp_max'] - 6)}] {fans} "
            f"FanR[{int(snap['fans'][0] / 60) if snap['fans'] else 0}%] Vo[0] "
            f"PS[0 1209 1256 300 3600 1257 {snap['power']}] WALLPOWER[{snap['power']}] "
            f"GHSspd[{snap['ghs_5s']:.2f}] DHspd[1.2%] GHSmm[{snap['ideal']:.2f}] "
            f"GHSavg[{snap['ghs_av']:.2f}] WU[{snap['ghs_av'] * 13.97:.2f}] Freq[587.5] "
            f"Led[{int(self.blink)}] MGHS[{ghs}] MTmax[{tmax}] MTavg[{tavg}] TA[120] "
            f"ECHU[{echu}] ECMM[0] FM[1] CRC[0 0 0] PAIRS[0 0 0] SoftOFF[{sleeping}] "
            f"WORKLEVEL[{level}] MPO[{self.power_limit}] CALIALL[7] ADJ[1] Nonce Mask[25]"
        )
        record = {
            "STATS": 0,
            "ID": "AVA100",
            "Elapsed": snap["elapsed"],
            "Calls": 0,
            "Wait": 0.0,
            "Max": 0.0,
            "Min": 99999999.0,
            "MM ID0": mm,
            "MM Count": 1,
            "Smart Speed": 1,
            "Connecter": "AUC",
            "AUC VER": "AUC-20151208",
            "AUC I2C Speed": 400000,
            "AUC I2C XDelay": 19200,
            "AUC Sensor": 15600,
            "AUC Temperature": snap["ambient"],
            "Connection Overloaded": False,
            "Voltage Level Offset": 0,
            "Nonce Mask": 25,
            "USB Pipe": "0",
            "USB Delay": "r0 0.000000 w0 0.000000",
            "USB tmo": "0 0",
        }
        pool = {"STATS": 1, "ID": "POOL0", "Elapsed": snap["elapsed"], "Calls": 0}
        pool |= {"Wait": 0.0, "Max": 0.0, "Min": 99999999.0, "Pool Calls": 0}
        return self._reply(70, "CGMiner stats", STATS=[record, pool])

    def _av_pools(self, snap: dict) -> dict[str, Any]:
        pools = self._pool_records(snap, bmminer=False)
        return self._reply(7, f"{len(pools)} Pool(s)", POOLS=pools)

    def _av_devs(self, snap: dict) -> dict[str, Any]:
        dev = {
            "ASC": 0,
            "Name": "AVA10",
            "ID": 0,
            "Enabled": "Y",
            "Status": "Alive",
            "Temperature": snap["temp_max"],
            "MHS av": round(snap["ghs_av"] * 1000, 2),
            "MHS 30s": round(snap["ghs_5s"] * 1000, 2),
            "MHS 1m": round(snap["ghs_5s"] * 1000, 2),
            "Accepted": snap["accepted"],
            "Rejected": snap["rejected"],
            "Hardware Errors": snap["hw"],
            "Device Elapsed": snap["elapsed"],
        }
        return self._reply(9, "1 ASC(s)", DEVS=[dev])

    def _av_config(self, snap: dict) -> dict[str, Any]:
        config = {"ASC Count": 1, "PGA Count": 0, "Pool Count": len(self.pools)}
        config |= {"Strategy": "Failover", "Log Interval": 30, "Device Code": "AVA10 "}
        config |= {"OS": "Linux", "Hotplug": "None"}
        return self._reply(33, "CGMiner config", CONFIG=[config])

    def _cg_addpool(self, params: Any) -> dict[str, Any]:
        """cgminer ``addpool|URL,USR,PASS``: appended at the next index, lowest priority."""
        self.invalidate()
        raw = str(params or "")
        parts = _split_commas(raw)
        if not raw.strip():
            return self._error(52, "Missing addpool details")
        if len(parts) != 3 or not parts[0].strip():
            return self._error(53, f"Invalid addpool details '{raw[:100]}'")
        if len(self.pools) >= 16:
            return self._error(54, f"Error adding pool '{parts[0]}': too many pools")
        url, user, password = (part.strip() for part in parts)
        self.pools.append({"url": url, "user": user, "pass": password})
        index = len(self.pools) - 1
        self.pool_order.append(index)
        return self._reply(55, f"Added pool {index}: '{url}'")

    def _cg_switchpool(self, params: Any) -> dict[str, Any]:
        """cgminer ``switchpool|N``: pool N becomes the top-priority pool."""
        self.invalidate()
        if params is None or str(params).strip() == "":
            return self._error(25, "Missing pool id parameter")
        try:
            index = int(str(params).strip())
        except ValueError:
            return self._error(26, f"Invalid pool id {params} - range is 0 - {len(self.pools) - 1}")
        if not 0 <= index < len(self.pools):
            return self._error(26, f"Invalid pool id {index} - range is 0 - {len(self.pools) - 1}")
        self.pool_order = [index] + [i for i in self.pool_order if i != index]
        return self._reply(27, f"Switching to pool {index}:'{self.pools[index]['url']}'")

    def _av_ascset(self, params: Any) -> dict[str, Any]:
        self.invalidate()
        parts = [p.strip() for p in str(params or "").split(",")]
        if len(parts) < 2 or parts[0] != "0":
            return self._reply(120, "Missing ASC parameter")
        option = parts[1]
        value = parts[2] if len(parts) > 2 else ""

        def ok(msg: str) -> dict[str, Any]:
            return self._reply(119, msg)

        if option in ("softoff", "softon"):
            # The value is "1:<unix time>": act at that moment (never in the past).
            try:
                at = int(value.split(":")[1])
            except (IndexError, ValueError):
                return self._error(121, "ASC 0 set failed: invalid time")
            delay = max(0.0, at - time.time())
            mode = "sleep" if option == "softoff" else getattr(self, "av_level", "normal")
            self.schedule_mode(mode, delay + self.settings.mode_change_s)
            return ok(f"ASC 0 set info: success {option}:{at}")
        if option == "worklevel" and value == "set" and len(parts) > 3:
            levels = {"0": "low", "1": "normal", "2": "high"}
            if parts[3] not in levels:
                return self._error(121, "ASC 0 set failed: invalid worklevel")
            self.av_level = levels[parts[3]]
            if self.mode != "sleep":
                self.schedule_mode(self.av_level)
            return ok("ASC 0 set OK")
        if option == "reboot":
            self.reboot()
            return ok("ASC 0 set info: success reboot")
        if option == "led":
            self.blink = value.endswith("1")
            return ok("ASC 0 set OK")
        return self._error(121, f"ASC 0 set failed: unknown option {option}")
