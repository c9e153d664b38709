"""Optional speed-ups for the hot paths, with the standard library as the fallback.

- uvloop (libuv event loop): cheaper connects, reads and callbacks for the collector and the
  simulator, which spend most of their time in the event loop at 30,000 miners.
- orjson: parses miner replies and encodes simulator replies several times faster than
  ``json``.

Both are used when installed. ``HASHINSIGHT_EDGE_LOOP=asyncio`` forces the standard event
loop and ``HASHINSIGHT_EDGE_JSON=json`` the standard ``json`` module (for comparisons, or when
a platform build misbehaves); nothing else changes.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Coroutine
from typing import Any

try:  # pragma: no cover - depends on what is installed
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

try:  # pragma: no cover
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

if os.environ.get("HASHINSIGHT_EDGE_JSON", "").lower() in ("json", "stdlib"):
    orjson = None


def loop_name() -> str:
    """The event loop ``run`` will use: "uvloop" or "asyncio"."""
    forced = os.environ.get("HASHINSIGHT_EDGE_LOOP", "").lower()
    return "uvloop" if uvloop is not None and forced != "asyncio" else "asyncio"


def json_name() -> str:
    return "orjson" if orjson is not None else "json"


def run(main: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` on uvloop when available (see the module docstring)."""
    if loop_name() == "uvloop":
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    return asyncio.run(main)


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises ValueError on bad input (orjson's error is a ValueError too)."""
    if orjson is not None:
        return orjson.loads(data)
    return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact JSON as bytes (non-finite floats: orjson writes null, json writes NaN)."""
    if orjson is not None:
        return orjson.dumps(value)
    return json.dumps(value, separators=(",", ":")).encode()
