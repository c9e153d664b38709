"""Each vendor's real control surface.

- Stock Antminer: the web CGI API on port 80 behind Digest auth (``reboot.cgi``,
  ``get_miner_conf.cgi`` / ``set_miner_conf.cgi`` with ``miner-mode`` 0 normal, 1 sleep,
  3 low, and the pool list). Its RPC port is read-only and answers "Access denied".
- Whatsminer (btminer API v2): encrypted privileged commands on 4028 after ``get_token``
  (``power_off``/``power_on``, ``reboot``, ``set_low|normal|high_power``, ``update_pools``,
  ``adjust_power_limit``).
- Whatsminer API v3 (4433): token-signed ``set.*`` commands (``set.system.reboot``,
  ``set.miner.service`` stop/start, ``set.miner.power_limit``, ``set.miner.power_mode``,
  ``set.miner.pools``).
- Avalon: ``ascset|0,...`` on 4028 (``softoff``/``softon`` at a time, ``worklevel,set,N``,
  ``reboot``) and cgminer's own ``addpool``/``switchpool`` for pools.
- Braiins OS, LuxOS, VNish (identified by their 4028 replies, ``Identity.hint``): through
  pyasic's miner object (``reboot``, ``stop_mining``/``resume_mining``, ``set_power_limit``,
  ``send_config``), which speaks each one's own surface (gRPC, session API, REST).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from edge_collector import btminer_crypto, digest
from edge_collector.btminer_v3 import BtminerV3Client
from edge_collector.rpc import CgminerClient, MinerError, check_status, decode_json_reply
from edge_collector.vendors import ANTMINER, AVALON, PROTOCOL_BTMINER_V3, WHATSMINER, section
from edge_collector.wire import Action, ErrorClass, WorkMode

# Firmware families driven through pyasic, by the hint ``vendors.identify`` gives them, and the
# name pyasic's ``MinerFirmware`` enum uses for each.
PYASIC_FAMILIES = {"braiins": "BOS+", "luxos": "LuxOS", "vnish": "VNish"}
PYASIC_TIMEOUT_S = 30.0

MAX_WEB_REPLY = 1024 * 1024


class ControlError(MinerError):
    pass


async def http_request(
    host: str,
    port: int,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.0 exchange (the miner closes after answering); bounded in time and size."""
    lines = [f"{method} {path} HTTP/1.0", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(request)
                await writer.drain()
                raw = await reader.read(MAX_WEB_REPLY + 1)
                while raw and len(raw) <= MAX_WEB_REPLY:
                    more = await reader.read(MAX_WEB_REPLY + 1 - len(raw))
                    if not more:
                        break
                    raw += more
            finally:
                writer.close()
    except TimeoutError:
        raise ControlError(ErrorClass.TIMEOUT, f"web {path}: no answer in time") from None
    except ConnectionRefusedError:
        raise ControlError(ErrorClass.REFUSED, f"web {path}: connection refused") from None
    except OSError as error:
        raise ControlError(ErrorClass.UNREACHABLE, f"web {path}: {error}") from None
    if len(raw) > MAX_WEB_REPLY:
        raise ControlError(ErrorClass.OVERSIZED, f"web {path}: reply too large")
    head, _, payload = raw.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(head_lines[0].split()[1])
    except (IndexError, ValueError):
        raise ControlError(ErrorClass.MALFORMED, f"web {path}: not an HTTP reply") from None
    reply_headers = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        reply_headers[name.strip().lower()] = value.strip()
    return status, reply_headers, payload


class AntminerWeb:
    def __init__(self, ip: str, *, user: str, password: str, port: int = 80, timeout: float = 10):
        self.ip, self.user, self.password, self.port, self.timeout = (
            ip,
            user,
            password,
            port,
            timeout,
        )
        self._challenge: str | None = None
        self._nc = 0

    async def call(self, method: str, name: str, payload: dict | None = None) -> Any:
        path = f"/cgi-bin/{name}.cgi"
        body = json.dumps(payload).encode() if payload is not None else b""
        for _ in range(2):
            headers = {}
            if self._challenge:
                self._nc += 1
                headers["Authorization"] = digest.authorization(
                    self._challenge, method, path, self.user, self.password, self._nc
                )
            status, reply_headers, data = await http_request(
                self.ip, self.port, method, path, body=body, headers=headers, timeout=self.timeout
            )
            if status == 401 and "www-authenticate" in reply_headers:
                if self._challenge and "stale" not in reply_headers["www-authenticate"].lower():
                    if headers:
                        raise ControlError(ErrorClass.AUTH_FAILED, "web login refused")
                self._challenge = reply_headers["www-authenticate"]
                continue
            if status != 200:
                raise ControlError(ErrorClass.API_ERROR, f"web {name}: HTTP {status}")
            try:
                return json.loads(data or b"{}")
            except ValueError:
                raise ControlError(ErrorClass.MALFORMED, f"web {name}: not JSON") from None
        raise ControlError(ErrorClass.AUTH_FAILED, "web login refused")

    async def conf(self) -> dict[str, Any]:
        conf = await self.call("GET", "get_miner_conf")
        if not isinstance(conf, dict):
            raise ControlError(ErrorClass.MALFORMED, "get_miner_conf is not an object")
        return conf

    async def set_conf(self, **changes: Any) -> None:
        conf = await self.conf()
        # set_miner_conf replaces the whole configuration: send back what we read.
        new = {
            "bitmain-fan-ctrl": conf.get("bitmain-fan-ctrl", False),
            "bitmain-fan-pwm": conf.get("bitmain-fan-pwm", "100"),
            "freq-level": conf.get("bitmain-freq-level", "100"),
            "miner-mode": int(conf.get("bitmain-work-mode", 0) or 0),
            "pools": conf.get("pools", []),
        }
        new.update(changes)
        reply = await self.call("POST", "set_miner_conf", new)
        if not isinstance(reply, dict) or reply.get("stats") != "success":
            raise ControlError(ErrorClass.API_ERROR, f"set_miner_conf refused: {reply!r}"[:200])

    async def work_mode(self) -> str:
        code = str((await self.conf()).get("bitmain-work-mode", "0"))
        return {
            "0": WorkMode.NORMAL,
            "1": WorkMode.SLEEP,
            "2": WorkMode.LOW,
            "3": WorkMode.LOW,
        }.get(code, "")


class WhatsminerApi:
    def __init__(self, ip: str, client: CgminerClient, password: str) -> None:
        self.ip, self.client, self.password = ip, client, password

    async def privileged(self, cmd: str, **params: Any) -> dict[str, Any]:
        token = await self.client.command(self.ip, "get_token", check=False)
        msg = token.get("Msg") if isinstance(token, dict) else None
        if not isinstance(msg, dict) or not all(k in msg for k in ("time", "salt", "newsalt")):
            raise ControlError(ErrorClass.API_ERROR, "get_token gave no token")
        salt, stamp, newsalt = str(msg["salt"]), str(msg["time"]), str(msg["newsalt"])
        key = btminer_crypto.session_key(self.password, salt)
        sign = btminer_crypto.sign_token(self.password, salt, stamp, newsalt)
        data = btminer_crypto.encrypt(key, {"cmd": cmd, "token": sign, **params})
        request = json.dumps({"enc": 1, "data": data}).encode()
        raw = await self.client.raw(self.ip, request)
        outer = decode_json_reply(raw)
        if "enc" not in outer:
            check_status(outer, cmd)
            raise ControlError(ErrorClass.API_ERROR, f"{cmd}: unencrypted answer")
        try:
            reply = btminer_crypto.decrypt(key, str(outer["enc"]))
        except (ValueError, UnicodeDecodeError):
            raise ControlError(
                ErrorClass.AUTH_FAILED, f"{cmd}: cannot decrypt (password?)"
            ) from None
        if reply.get("Code") == 135:
            raise ControlError(ErrorClass.AUTH_FAILED, f"{cmd}: token refused")
        return check_status(reply, cmd)


async def execute(
    vendor: str,
    ip: str,
    action: str,
    params: dict[str, Any],
    *,
    client: CgminerClient,
    credentials: Any,
    protocol: str = "",
    hint: str = "",
    v3_client: BtminerV3Client | None = None,
) -> None:
    """Carry out one action on one miner; raise MinerError (with a class) when it fails."""
    if hint in PYASIC_FAMILIES:
        await pyasic_execute(ip, action, params, family=hint)
    elif protocol == PROTOCOL_BTMINER_V3:
        v3 = v3_client or BtminerV3Client(timeout=client.timeout)
        await whatsminer_v3_execute(v3, ip, action, params, credentials.whatsminer_v3_password)
    elif vendor == ANTMINER:
        web = AntminerWeb(
            ip,
            user=credentials.antminer_web_user,
            password=credentials.antminer_web_password,
            port=credentials.antminer_web_port,
        )
        if action == Action.REBOOT:
            reply = await web.call("GET", "reboot")
            if not reply:
                raise ControlError(ErrorClass.API_ERROR, "reboot.cgi gave an empty answer")
        elif action == Action.SLEEP:
            await web.set_conf(**{"miner-mode": 1})
        elif action == Action.WAKE:
            await web.set_conf(**{"miner-mode": 0})
        elif action == Action.SET_WORK_MODE:
            codes = {WorkMode.NORMAL: 0, WorkMode.LOW: 3}
            if params.get("mode") not in codes:
                raise ControlError(
                    ErrorClass.UNSUPPORTED, f"stock Antminer has no mode {params.get('mode')!r}"
                )
            await web.set_conf(**{"miner-mode": codes[params["mode"]]})
        elif action == Action.SET_POOL:
            conf = await web.conf()
            pools = [
                {
                    "url": params["url"],
                    "user": params.get("user", ""),
                    "pass": params.get("password", "x"),
                }
            ]
            pools += [p for p in conf.get("pools", []) if p.get("url") != params["url"]][:2]
            await web.set_conf(pools=pools)
        else:
            raise ControlError(
                ErrorClass.UNSUPPORTED, f"{action} is not supported on stock Antminer"
            )
    elif vendor == WHATSMINER:
        api = WhatsminerApi(ip, client, credentials.whatsminer_password)
        if action == Action.REBOOT:
            await api.privileged("reboot")
        elif action == Action.SLEEP:
            await api.privileged("power_off", respbefore="true")
        elif action == Action.WAKE:
            await api.privileged("power_on")
        elif action == Action.SET_WORK_MODE:
            if params.get("mode") not in ("low", "normal", "high"):
                raise ControlError(ErrorClass.INVALID, f"unknown mode {params.get('mode')!r}")
            await api.privileged(f"set_{params['mode']}_power")
        elif action == Action.SET_POOL:
            await api.privileged(
                "update_pools",
                pool1=params["url"],
                worker1=params.get("user", ""),
                passwd1=params.get("password", "x"),
            )
        elif action == Action.SET_POWER_LIMIT:
            await api.privileged("adjust_power_limit", power_limit=str(int(params["watts"])))
        else:
            raise ControlError(ErrorClass.UNSUPPORTED, f"{action} is not supported on Whatsminer")
    elif vendor == AVALON:
        at = int(time.time()) + 1  # softoff/softon take the moment to act
        if action == Action.SET_POOL:
            await avalon_set_pool(client, ip, params)
            return
        if action == Action.SWITCH_POOL:
            await switch_pool(client, ip, _pool_index(params))
            return
        if action == Action.REBOOT:
            request = "0,reboot,0"
        elif action == Action.SLEEP:
            request = f"0,softoff,1:{at}"
        elif action == Action.WAKE:
            request = f"0,softon,1:{at}"
        elif action == Action.SET_WORK_MODE:
            levels = {"low": 0, "normal": 1, "high": 2}
            if params.get("mode") not in levels:
                raise ControlError(ErrorClass.INVALID, f"unknown mode {params.get('mode')!r}")
            request = f"0,worklevel,set,{levels[params['mode']]}"
        else:
            raise ControlError(ErrorClass.UNSUPPORTED, f"{action} is not supported on Avalon")
        await client.command(ip, "ascset", request)
    else:
        raise ControlError(ErrorClass.UNSUPPORTED, f"no native control for vendor {vendor!r}")


# --- cgminer pools (Avalon) ---------------------------------------------------------------


def _escape_param(value: str) -> str:
    # cgminer splits addpool's parameter on commas; a backslash escapes one.
    return value.replace("\\", "\\\\").replace(",", "\\,")


def _pool_index(params: dict[str, Any]) -> int:
    index = params.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 64:
        raise ControlError(ErrorClass.INVALID, "switch_pool needs params.index (0-63)")
    return index


async def switch_pool(client: CgminerClient, ip: str, index: int) -> None:
    """cgminer ``switchpool|N``: pool N becomes the top-priority pool."""
    await client.command(ip, "switchpool", index)


async def avalon_set_pool(client: CgminerClient, ip: str, params: dict[str, Any]) -> None:
    """Mine on ``params.url``/``user``: reuse the pool when the miner has it, else
    ``addpool`` it, then ``switchpool`` to it (cgminer has no 'replace pool' command)."""
    url, user = str(params["url"]), str(params.get("user", ""))
    password = str(params.get("password") or "x")
    pools = section(await client.command(ip, "pools"), "POOLS")

    def find() -> int | None:
        for position, pool in enumerate(pools):
            if pool.get("URL") == url and (not user or pool.get("User") == user):
                index = pool.get("POOL", position)
                return index if isinstance(index, int) else position
        return None

    index = find()
    if index is None:
        request = ",".join(_escape_param(part) for part in (url, user, password))
        await client.command(ip, "addpool", request)
        # "Added pool N: 'url'" names the index, but read it back rather than parse prose.
        pools = section(await client.command(ip, "pools"), "POOLS")
        index = find()
        if index is None:
            raise ControlError(ErrorClass.API_ERROR, "addpool succeeded but the pool is missing")
    await switch_pool(client, ip, index)


# --- Whatsminer API v3 --------------------------------------------------------------------


async def whatsminer_v3_execute(
    v3: BtminerV3Client, ip: str, action: str, params: dict[str, Any], password: str
) -> None:
    if action == Action.REBOOT:
        await v3.write(ip, "set.system.reboot", None, password)
    elif action == Action.SLEEP:
        await v3.write(ip, "set.miner.service", "stop", password)
    elif action == Action.WAKE:
        await v3.write(ip, "set.miner.service", "start", password)
    elif action == Action.SET_POWER_LIMIT:
        await v3.write(ip, "set.miner.power_limit", int(params["watts"]), password)
    elif action == Action.SET_WORK_MODE:
        if params.get("mode") not in ("low", "normal", "high"):
            raise ControlError(ErrorClass.INVALID, f"unknown mode {params.get('mode')!r}")
        await v3.write(ip, "set.miner.power_mode", params["mode"], password)
    elif action == Action.SET_POOL:
        pool = {
            "pool": str(params["url"]),
            "worker": str(params.get("user", "")),
            "passwd": str(params.get("password") or "x"),
        }
        current = (await v3.msg(ip, "get.miner.status", "pools")).get("pools") or []
        rest = [
            {"pool": p.get("url", ""), "worker": p.get("account", ""), "passwd": "x"}
            for p in current
            if isinstance(p, dict) and p.get("url") and p.get("url") != pool["pool"]
        ]
        await v3.write(ip, "set.miner.pools", [pool, *rest][:3], password)
    else:
        raise ControlError(ErrorClass.UNSUPPORTED, f"{action} is not supported on Whatsminer v3")


async def read_work_mode(
    protocol: str, vendor: str, ip: str, *, credentials: Any, v3_client: BtminerV3Client
) -> str | None:
    """The configured work mode where telemetry does not carry it (None: use telemetry)."""
    if protocol == PROTOCOL_BTMINER_V3:
        setting = await v3_client.msg(ip, "get.miner.setting")
        return str(setting.get("power-mode", ""))
    if vendor == ANTMINER:
        web = AntminerWeb(
            ip,
            user=credentials.antminer_web_user,
            password=credentials.antminer_web_password,
            port=credentials.antminer_web_port,
        )
        return await web.work_mode()
    return None


# --- pyasic (Braiins OS, LuxOS, VNish) ----------------------------------------------------


async def pyasic_execute(
    ip: str, action: str, params: dict[str, Any], *, family: str, timeout: float = PYASIC_TIMEOUT_S
) -> None:
    """Drive a miner through pyasic's miner object; the caller verifies from telemetry.

    pyasic identifies the miner again (its own probes) and must agree on the firmware family,
    so a miner swapped for another since discovery is not sent the wrong commands.
    """
    try:
        import pyasic
        from pyasic.config import MiningModeConfig, PoolConfig
    except ImportError:
        raise ControlError(ErrorClass.UNSUPPORTED, "pyasic is not installed") from None
    try:
        async with asyncio.timeout(timeout):
            miner = await pyasic.get_miner(ip)
            if miner is None:
                raise ControlError(ErrorClass.UNSUPPORTED, "pyasic does not recognise the miner")
            seen = str(getattr(miner, "firmware", "") or "")
            if seen != PYASIC_FAMILIES[family]:
                raise ControlError(
                    ErrorClass.UNSUPPORTED,
                    f"pyasic sees firmware {seen or 'unknown'!r}, expected {family}",
                )
            if action == Action.REBOOT:
                done = await miner.reboot()
            elif action == Action.SLEEP:
                done = await miner.stop_mining()
            elif action == Action.WAKE:
                done = await miner.resume_mining()
            elif action == Action.SET_POWER_LIMIT:
                done = await miner.set_power_limit(int(params["watts"]))
            elif action in (Action.SET_POOL, Action.SET_WORK_MODE):
                config = await miner.get_config()
                if action == Action.SET_POOL:
                    pool = {
                        "url": str(params["url"]),
                        "user": str(params.get("user", "")),
                        "password": str(params.get("password") or "x"),
                    }
                    config.pools = PoolConfig.simple([pool])
                else:
                    modes = {"low": MiningModeConfig.low, "normal": MiningModeConfig.normal}
                    modes["high"] = MiningModeConfig.high
                    if params.get("mode") not in modes:
                        raise ControlError(
                            ErrorClass.INVALID, f"unknown mode {params.get('mode')!r}"
                        )
                    config.mining_mode = modes[params["mode"]]()
                done = await miner.send_config(config)
            else:
                raise ControlError(ErrorClass.UNSUPPORTED, f"{action} is not supported via pyasic")
    except TimeoutError:
        raise ControlError(ErrorClass.TIMEOUT, f"pyasic {action}: no answer in time") from None
    except (MinerError, KeyError, TypeError, ValueError):
        raise
    except Exception as error:  # noqa: BLE001 - pyasic raises many kinds; all are a failed action
        raise ControlError(
            ErrorClass.API_ERROR, f"pyasic {action}: {type(error).__name__}: {error}"[:300]
        ) from None
    # send_config returns None on most backends; the other methods return True/False.
    if done is False:
        raise ControlError(ErrorClass.API_ERROR, f"pyasic {action}: the miner refused")
