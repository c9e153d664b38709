"""HTTP Digest authentication (RFC 7616, MD5 with qop=auth), both sides.

Stock Antminer firmware guards its web CGI with Digest auth under the realm
``antMiner Configuration``; the collector's control client and the simulator's web server
both need it, and the standard library only has a blocking client handler.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time

_PAIR = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest MD5 is the protocol


def parse_params(header: str) -> dict[str, str]:
    """``Digest realm="x", nonce="y", qop="auth"`` -> {"realm": "x", ...}."""
    _, _, rest = header.partition(" ")
    return {key.lower(): quoted or bare for key, quoted, bare in _PAIR.findall(rest)}


def _response(params: dict[str, str], method: str, uri: str, user: str, password: str) -> str:
    ha1 = _md5(f"{user}:{params.get('realm', '')}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if params.get("qop"):
        return _md5(
            f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}"
        )
    return _md5(f"{ha1}:{params.get('nonce', '')}:{ha2}")


def authorization(
    challenge: str, method: str, uri: str, user: str, password: str, nc: int = 1
) -> str:
    """The ``Authorization`` header answering a ``WWW-Authenticate: Digest`` challenge."""
    offered = parse_params(challenge)
    params = {"realm": offered.get("realm", ""), "nonce": offered.get("nonce", "")}
    qops = [q.strip() for q in offered.get("qop", "").split(",") if q.strip()]
    if "auth" in qops:
        params |= {"qop": "auth", "nc": f"{nc:08x}", "cnonce": os.urandom(8).hex()}
    response = _response(params, method, uri, user, password)
    parts = [
        f'username="{user}"',
        f'realm="{params["realm"]}"',
        f'nonce="{params["nonce"]}"',
        f'uri="{uri}"',
        f'response="{response}"',
    ]
    if "qop" in params:
        parts += ["qop=auth", f"nc={params['nc']}", f'cnonce="{params["cnonce"]}"']
    if "opaque" in offered:
        parts.append(f'opaque="{offered["opaque"]}"')
    if "algorithm" in offered:
        parts.append(f"algorithm={offered['algorithm']}")
    return "Digest " + ", ".join(parts)


class DigestServer:
    """Issues stateless nonces (timestamp + HMAC) and checks answers to them."""

    def __init__(self, realm: str, users: dict[str, str], lifetime_s: float = 600) -> None:
        self.realm = realm
        self.users = users
        self.lifetime_s = lifetime_s
        self._secret = os.urandom(16)

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), "sha256").hexdigest()[:24]

    def challenge(self) -> str:
        stamp = f"{int(time.time()):x}"
        nonce = stamp + self._sign(stamp)
        return f'Digest realm="{self.realm}", nonce="{nonce}", qop="auth", algorithm=MD5'

    def check(self, header: str | None, method: str) -> bool:
        if not header or not header.lower().startswith("digest "):
            return False
        params = parse_params(header)
        user, nonce = params.get("username", ""), params.get("nonce", "")
        if user not in self.users or len(nonce) < 9 or params.get("realm") != self.realm:
            return False
        stamp, signature = nonce[:-24], nonce[-24:]
        if not hmac.compare_digest(signature, self._sign(stamp)):
            return False
        try:
            if time.time() - int(stamp, 16) > self.lifetime_s:
                return False
        except ValueError:
            return False
        if params.get("qop") and not (params.get("nc") and params.get("cnonce")):
            return False
        try:
            expected = _response(params, method, params.get("uri", ""), user, self.users[user])
        except KeyError:
            return False
        return hmac.compare_digest(expected, params.get("response", ""))
