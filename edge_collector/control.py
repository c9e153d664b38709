"""Each vendor's real control surface.

- Stock Antminer: the web CGI API on port 80 behind Digest auth (``reboot.cgi``,
  ``get_miner_conf.cgi`` / ``set_miner_conf.cgi`` with ``miner-mode`` 0 normal, 1 sleep,
  3 low, and the pool list). Its RPC port is read-only and answers "Access denied".
- Whatsminer (btminer API v2): encrypted privileged commands on 4028 after ``get_token``
  (``power_off``/``power_on``, ``reboot``, ``set_low|normal|high_power``, ``update_pools``,
  ``adjust_power_limit``).
- Avalon: ``ascset|0,...`` on 4028 (``softoff``/``softon`` at a time, ``worklevel,set,N``,
  ``reboot``).

Firmware outside these three is identified (``Identity.hint``) but not driven here; pyasic
can drive it (not wired into the collector yet).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from edge_collector import btminer_crypto, digest
from edge_collector.rpc import CgminerClient, MinerError, check_status, decode_json_reply
from edge_collector.vendors import ANTMINER, AVALON, WHATSMINER
from edge_collector.wire import Action, ErrorClass, WorkMode

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
) -> None:
    """Carry out one action on one miner; raise MinerError (with a class) when it fails."""
    if vendor == ANTMINER:
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
