"""Find miners: expand CIDR ranges and lists, probe 4028 with bounded concurrency, identify.

Each host gets one deadline for the whole probe (connect, ``version``, maybe ``devdetails``,
and for a host that refuses 4028 the Whatsminer API v3 ``get.device.info`` on 4433), so a host
that accepts and then hangs costs at most that and never stalls the scan.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from edge_collector.btminer_v3 import V3_PORT, BtminerV3Client
from edge_collector.rpc import CgminerClient, MinerError
from edge_collector.vendors import PROTOCOL_CGMINER, UNKNOWN, WHATSMINER, identify, identify_v3
from edge_collector.wire import ErrorClass

MAX_TARGETS = 262_144  # a /14; larger scans are almost certainly a typo


@dataclass(slots=True)
class Candidate:
    ip: str
    vendor: str
    model: str
    firmware: str
    api_version: str
    mac: str
    hint: str = ""
    protocol: str = PROTOCOL_CGMINER
    serial: str = ""

    def to_wire(self, *, miner_key: str, include_ip: bool) -> dict:
        body = asdict(self)
        body["miner_key"] = miner_key
        if not include_ip:
            del body["ip"]
        return body


def expand_targets(specs: Iterable[str], *, limit: int = MAX_TARGETS) -> list[str]:
    """``10.0.0.0/24``, ``10.0.0.5-10.0.0.40``, ``10.0.0.7`` -> addresses, in order, no dups.

    Network and broadcast addresses of a CIDR block are skipped (as ``hosts()`` does).
    Raises ValueError naming the bad entry.
    """
    seen: dict[str, None] = {}
    for spec in specs:
        spec = spec.strip()
        try:
            if "/" in spec:
                network = ipaddress.IPv4Network(spec, strict=False)
                if network.num_addresses > limit:
                    raise ValueError(f"{spec} has more than {limit} addresses")
                hosts: Iterable = network.hosts() if network.prefixlen < 31 else network
            elif "-" in spec:
                first, last = (ipaddress.IPv4Address(p.strip()) for p in spec.split("-", 1))
                if int(last) < int(first):
                    raise ValueError(f"range {spec} ends before it starts")
                if int(last) - int(first) >= limit:
                    raise ValueError(f"{spec} has more than {limit} addresses")
                hosts = (ipaddress.IPv4Address(n) for n in range(int(first), int(last) + 1))
            else:
                hosts = [ipaddress.IPv4Address(spec)]
        except ipaddress.AddressValueError as error:
            raise ValueError(f"'{spec}' is not an IPv4 address, range or CIDR: {error}") from None
        except ipaddress.NetmaskValueError as error:
            raise ValueError(f"'{spec}' has a bad netmask: {error}") from None
        for host in hosts:
            seen[str(host)] = None
            if len(seen) > limit:
                raise ValueError(f"targets add up to more than {limit} addresses")
    return list(seen)


async def probe_host(
    client: CgminerClient,
    ip: str,
    deadline_s: float,
    v3_client: BtminerV3Client | None = None,
) -> Candidate | None:
    """Identify one host, or None when nothing miner-like answers within ``deadline_s``."""
    try:
        async with asyncio.timeout(deadline_s):
            try:
                version = await client.command(ip, "version", check=False)
            except MinerError as error:
                # Whatsminers on API v3 firmware close 4028 and answer on 4433 instead.
                if error.error_class is not ErrorClass.REFUSED or v3_client is None:
                    raise
                device = await v3_client.msg(ip, "get.device.info")
                if "miner" not in device:
                    return None
                ident = identify_v3(device)
            else:
                ident = identify(version)
                if ident.vendor in (UNKNOWN, WHATSMINER) and not ident.hint:
                    try:
                        details = await client.command(ip, "devdetails", check=False)
                    except MinerError:
                        details = None
                    ident = identify(version, details)
    except (MinerError, TimeoutError):
        return None
    if ident.vendor == UNKNOWN and not ident.hint and not ident.api_version:
        # Something answered on 4028 but it does not speak the CGMiner API.
        return None
    return Candidate(
        ip=ip,
        vendor=ident.vendor,
        model=ident.model,
        firmware=ident.firmware,
        api_version=ident.api_version,
        mac=ident.mac,
        hint=ident.hint,
        protocol=ident.protocol,
        serial=ident.serial,
    )


async def scan(
    targets: Iterable[str],
    *,
    port: int = 4028,
    timeout: float = 1.5,
    concurrency: int = 256,
    progress=None,
    v3_port: int = V3_PORT,
) -> list[Candidate]:
    """Probe every target (address, range or CIDR) with at most ``concurrency`` hosts in
    flight; return the miners found, in address order."""
    client = CgminerClient(port=port, timeout=timeout)
    v3_client = BtminerV3Client(port=v3_port, timeout=timeout) if v3_port else None
    addresses = expand_targets(targets)
    found: list[Candidate] = []
    iterator = iter(addresses)
    done = 0

    async def worker() -> None:
        nonlocal done
        for ip in iterator:
            candidate = await probe_host(client, ip, deadline_s=timeout * 2.5, v3_client=v3_client)
            if candidate:
                found.append(candidate)
            done += 1
            if progress:
                progress(done, len(addresses))

    await asyncio.gather(*(worker() for _ in range(min(max(1, concurrency), len(addresses)))))
    found.sort(key=lambda c: ipaddress.IPv4Address(c.ip))
    return found
