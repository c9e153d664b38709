"""The demo farm of ``hashinsight demo``: a live farm within a minute of a fresh start.

The core CLI asks every plugin through the ``hashinsight_demo`` hook; this one

1. seeds the farm once (2 sites, 4 zones, racks, 4 customers, 200 miners of 7 models from
   the calculator's catalogue when it is enabled, free model names otherwise);
2. registers one edge device per zone (a device is bound to its zone) and writes its token
   to ``var/demo/edge-<zone>/token`` (mode 0600; printed nowhere);
3. writes the simulator's farm file (``var/demo/farm.toml``, miners on 127.21.x.y, which
   Linux routes to ``lo`` without root) and one collector config per zone;
4. gives the miners the keys their collector will report them by, and returns the commands
   ``hashinsight-edge simulate`` and ``hashinsight-edge run`` (one per zone) for the CLI to
   run beside the worker and the web server.

```
 hashinsight demo ──> migrate ──> hook: seed (once) + devices + files ──> processes:
                                                                     simulate farm.toml
   miners 127.21.1-4.x  <── poll every 30 s ──  run edge-<zone>.toml  (x 4)
                                                     │ gzip batches, device token
                                                     v
                                   web server :6543 (receiver -> raw + live)
                                   worker (SqliteHuey): 5-minute and daily rollups
```

Re-running finds everything by name and makes nothing twice: the farm is seeded once, a
device's token is kept while its file still matches, and the miners' keys are brought in
line with the collectors' state (a deleted state folder means new keys).

Miner keys: a collector reports a miner by ``mk_`` + a salted hash of its address, the salt
living in the collector's state folder. The demo opens that state with the collector's own
``Spool`` (creating the salt the collector will then keep) and stores each miner's key, so the
first upload already matches every miner — Antminers report neither serial nor MAC over
their API, so a key is the only way to match them without an operator adopting them.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

log = logging.getLogger(__name__)

DEMO_DIR = "demo"
DEVICE_NAME = "demo-collector"
FARM_SEED = 2026
ADDRESS_PREFIX = "127.21"  # zone n -> 127.21.n.1 ...; clear of the tests' 127.100+ blocks
SIM_HTTP_PORT = 18080  # Antminer web UI of the simulated miners (80 would need root)
RACK_ROWS, RACK_SLOTS = 4, 10

CUSTOMERS = ("Northwind Mining", "Aurora Hash Fund", "Blue River Capital", "Satoshi Garden")


@dataclass(frozen=True)
class Group:
    model: str  # the simulator's model key
    count: int
    customer: int | None  # index into CUSTOMERS; None = the provider's own miners
    catalogue: tuple[str, str] | None  # (vendor, model) in the calculator's catalogue
    absent: float = 0.0  # share of the group that has gone away (offline in the demo)


@dataclass(frozen=True)
class DemoZone:
    slug: str
    name: str
    capacity_kw: float
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class DemoSite:
    name: str
    timezone: str
    location: str
    capacity_kw: float
    tariff: float
    zones: tuple[DemoZone, ...]


FARM = (
    DemoSite(
        "Demo North",
        "America/Chicago",
        "Texas, USA",
        2000.0,
        0.045,
        (
            DemoZone(
                "hall-a",
                "Hall A",
                250.0,
                (
                    Group("S19jPro", 40, 0, ("Bitmain", "Antminer S19j Pro")),
                    Group("S19XP", 20, 1, ("Bitmain", "Antminer S19 XP")),
                ),
            ),
            DemoZone(
                "hall-b",
                "Hall B",
                250.0,
                (
                    Group("M30S+", 30, 2, ("MicroBT", "Whatsminer M30S+"), absent=0.1),
                    Group("S19", 30, None, ("Bitmain", "Antminer S19")),
                ),
            ),
        ),
    ),
    DemoSite(
        "Demo Hydro",
        "America/Toronto",
        "Quebec, Canada",
        1500.0,
        0.038,
        (
            DemoZone(
                "container-1",
                "Container 1",
                160.0,
                (
                    Group("A1366", 20, 3, ("Canaan", "Avalon A1366")),
                    Group("S19XP", 20, 1, ("Bitmain", "Antminer S19 XP")),
                ),
            ),
            DemoZone(
                "container-2",
                "Container 2",
                160.0,
                (
                    Group("M60S", 20, 0, ("MicroBT", "Whatsminer M60S")),
                    Group("A1246", 20, 3, ("Canaan", "Avalon A1246"), absent=0.05),
                ),
            ),
        ),
    ),
)


def zone_block(number: int) -> str:
    return f"{ADDRESS_PREFIX}.{number}"


def farm_description() -> dict:
    """The simulator's farm file (as a dict): each zone on its own 127.21.<n>.0/24 block."""
    groups = []
    number = 0
    for site in FARM:
        for zone in site.zones:
            number += 1
            start = f"{zone_block(number)}.1"
            for group in zone.groups:
                entry = {
                    "model": group.model,
                    "count": group.count,
                    "site": site.name,
                    "zone": zone.name,
                    "owner": CUSTOMERS[group.customer] if group.customer is not None else "",
                }
                if start:
                    entry["start"] = start
                    start = ""
                if group.absent:
                    entry["absent"] = group.absent
                groups.append(entry)
    return {
        "farm": {
            "seed": FARM_SEED,
            "http_port": SIM_HTTP_PORT,
            "reply_refresh_s": 5.0,
            # A few board faults an hour across the farm, so warnings show up in the demo.
            "board_fault_per_day": 0.5,
        },
        "miners": groups,
    }


def toml_text(data: dict) -> str:
    """A small TOML writer for the flat tables and arrays of tables the demo files use."""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["# Written by `hashinsight demo`; rewritten on every demo start.", ""]
    for section, content in data.items():
        tables = content if isinstance(content, list) else [content]
        for table in tables:
            lines.append(f"[[{section}]]" if isinstance(content, list) else f"[{section}]")
            lines += [f"{key} = {value(v)}" for key, v in table.items()]
            lines.append("")
    return "\n".join(lines)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


def _catalogue(request) -> dict[tuple[str, str], tuple[int, str, float, float]]:
    """(vendor, model) lower-cased -> (id, model, TH/s, W) from the calculator's catalogue;
    {} when that plugin is not enabled (the demo then uses the simulator's figures)."""
    enabled = {getattr(p, "name", p) for p in request.registry.get("enabled_plugins", ())}
    if "calculator" not in enabled:
        return {}
    from plugins.hosting.services import _CATALOGUE

    rows = request.dbsession.execute(
        sa.select(
            _CATALOGUE.c.id,
            _CATALOGUE.c.vendor,
            _CATALOGUE.c.model,
            _CATALOGUE.c.hashrate_ths,
            _CATALOGUE.c.power_w,
        )
    )
    return {
        (r.vendor.lower(), r.model.lower()): (r.id, r.model, r.hashrate_ths, r.power_w)
        for r in rows
    }


def _identities(description: dict) -> dict[str, tuple[str, str]]:
    """ip -> (serial, MAC) as the simulator will report them."""
    from edge_collector.simulator.farm import build_farm
    from edge_collector.simulator.miner import SimMiner

    farm = build_farm(description)
    return {
        spec.ip: (sim.serial, sim.mac)
        for spec in farm.miners
        for sim in (SimMiner(spec, farm.settings, seed=0),)
    }


def _salt(state_dir: Path) -> str:
    """The collector's miner-key salt (made now if the state is new; the collector keeps it)."""
    from edge_collector.spool import Spool

    spool = Spool(state_dir / "spool.sqlite3")
    try:
        return spool.identity()[1]
    finally:
        spool.close()


def seed_farm(request, description: dict) -> bool:
    """Create the demo's sites, zones, racks, customers and miners unless they exist.

    Returns True when it created the farm. A farm is "there" when its first site is.
    """
    from hashinsight_core.models import Customer
    from plugins.hosting import services
    from plugins.hosting.models import Site

    db = request.dbsession
    if db.scalar(sa.select(Site.id).where(Site.name == FARM[0].name)) is not None:
        return False
    customers = {}
    for name in CUSTOMERS:
        customer = db.scalar(sa.select(Customer).where(Customer.name == name))
        if customer is None:
            customer = Customer(name=name, notes="Demo customer")
            db.add(customer)
            db.flush()
        customers[name] = customer.id
    catalogue = _catalogue(request)
    model_ids: list[int | None] = []
    identities = _identities(description)
    from edge_collector.simulator.models import MODELS

    rows = []
    number = 0
    for site_spec in FARM:
        site = services.create_site(
            request,
            name=site_spec.name,
            timezone=site_spec.timezone,
            capacity_kw=site_spec.capacity_kw,
            location=site_spec.location,
            tariff_per_kwh=site_spec.tariff,
            tariff_currency="USD",
        )
        for zone_spec in site_spec.zones:
            number += 1
            zone = services.create_zone(request, site, zone_spec.name, zone_spec.capacity_kw)
            count = sum(g.count for g in zone_spec.groups)
            racks = -(-count // (RACK_ROWS * RACK_SLOTS))
            for r in range(racks):
                services.create_rack(
                    request, zone, f"{zone_spec.name[0]}{number}-R{r + 1}", RACK_ROWS, RACK_SLOTS
                )
            index = 0
            for group in zone_spec.groups:
                model = MODELS[group.model]
                found = catalogue.get(tuple(p.lower() for p in group.catalogue or ("", "")))
                for _n in range(group.count):
                    ip = f"{zone_block(number)}.{index + 1}"
                    serial, mac = identities[ip]
                    rack, spot = divmod(index, RACK_ROWS * RACK_SLOTS)
                    owner = CUSTOMERS[group.customer] if group.customer is not None else None
                    row = {
                        "serial": serial,
                        "mac": mac,
                        "zone_id": zone.id,
                        "rack": f"{zone_spec.name[0]}{number}-R{rack + 1}",
                        "row": spot // RACK_SLOTS + 1,
                        "slot": spot % RACK_SLOTS + 1,
                        "customer_id": customers[owner] if owner else None,
                        "firmware": model.firmware,
                        "pool_url": "stratum+tcp://btc.pool.example:3333",
                        "pool_worker": f"{(owner or 'farm').split()[0].lower()}.{ip}",
                        "status": "installed",
                    }
                    # The catalogue's name and figures; its id is set below (given as
                    # asic_model_id, the import would look the model up again).
                    name, ths, watts = (
                        found or (None, model.name, model.nominal_ths, model.power_w)
                    )[1:]
                    row.update(model=name, nominal_ths=ths, nominal_w=watts)
                    model_ids.append(found[0] if found else None)
                    rows.append(row)
                    index += 1
    ids = services.create_miners(request, rows)
    from plugins.hosting.models import Miner

    for miner_id, model_id in zip(ids, model_ids, strict=True):
        if model_id is not None:
            db.get(Miner, miner_id).asic_model_id = model_id
    db.flush()
    return True


DEMO_BRAND = {
    "name": "Northern Hash Hosting",
    "slug": "northern-hash",
    "primary_color": "#2f9e8f",
    "background_color": "#0f1c1f",
    "support_email": "help@northern-hash.example",
    "support_phone": "+1 555 0100",
    "legal_footer": "Northern Hash Hosting Ltd. · Demo data",
}


def seed_operations(request) -> None:
    """Day-to-day operations on the new demo farm: a few tickets (one customer's, one from
    the staff, one already solved, with a part swap), yesterday's scheduled maintenance as an
    excused event, and a second brand answering on ``localhost`` for the demo's first customer
    (open http://localhost:6543/ beside http://127.0.0.1:6543/ to see host-name branding)."""
    import datetime as dt

    from hashinsight_core.db import utcnow
    from plugins.hosting.brands import services as brands
    from plugins.hosting.kpi.models import ExcusedEvent
    from plugins.hosting.models import Miner
    from plugins.hosting.tickets import services as tickets

    db = request.dbsession
    owned = db.scalars(
        sa.select(Miner).where(Miner.customer_id.is_not(None)).order_by(Miner.id).limit(40)
    ).all()
    if len(owned) < 3:
        return
    first, second, third = owned[0], owned[10], owned[20]
    tickets.open_ticket(
        request,
        title="Miner restarts every few minutes",
        category="psu",
        priority="high",
        body="It has been rebooting since this morning. Could you check the power supply?",
        miner_ids=[first.id],
        source="customer",
    )
    tickets.open_ticket(
        request,
        title="Fan 2 is loud",
        category="fan",
        priority="normal",
        body="Heard on the morning walk-through; a fan swap is planned.",
        miner_ids=[second.id],
        source="operator",
    )
    solved = tickets.open_ticket(
        request,
        title="One hashboard missing",
        category="hashboard",
        priority="normal",
        body="Only two boards hash.",
        miner_ids=[third.id],
        source="operator",
    )
    tickets.add_repair(
        request,
        third,
        {
            "kind": "part_swap",
            "part": "hashboard",
            "old_serial": "HB-DEMO-1",
            "new_serial": "HB-DEMO-2",
            "ticket_id": solved.id,
            "note": "Board 3 replaced",
        },
    )
    tickets.change_status(request, solved, "resolved", "Board replaced, hashing again")
    yesterday = utcnow().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    db.add(
        ExcusedEvent(
            kind="maintenance",
            site_id=first.site_id,
            zone_id=first.zone_id,
            starts_at=yesterday,
            ends_at=yesterday + dt.timedelta(hours=2),
            note="Scheduled cleaning of the cooling pads",
        )
    )
    brand = brands.create_brand(request, DEMO_BRAND)
    brands.add_host(request, brand, "localhost")
    brands.set_customers(request, brand, [first.customer_id])
    db.flush()


def ensure_devices(request, out: Path) -> list[tuple[object, object, Path]]:
    """One device per demo zone, its token in ``out/edge-<zone>/token``: (site, zone, folder)."""
    from plugins.hosting import devices
    from plugins.hosting.models import EdgeDevice, Site, Zone

    db = request.dbsession
    result = []
    for site_spec in FARM:
        site = db.scalar(sa.select(Site).where(Site.name == site_spec.name))
        if site is None:
            continue
        for zone_spec in site_spec.zones:
            zone = db.scalar(
                sa.select(Zone).where(Zone.site_id == site.id, Zone.name == zone_spec.name)
            )
            if zone is None:
                continue
            folder = out / f"edge-{zone_spec.slug}"
            token_file = folder / "token"
            device = db.scalar(
                sa.select(EdgeDevice).where(
                    EdgeDevice.zone_id == zone.id,
                    EdgeDevice.name == DEVICE_NAME,
                    EdgeDevice.revoked_at.is_(None),
                )
            )
            saved = token_file.read_text().strip() if token_file.exists() else ""
            if device is None:
                device, secret = devices.create_device(request, zone, DEVICE_NAME)
                _write_private(token_file, secret + "\n")
            elif not saved or devices.digest(saved) != device.token_hash:
                _write_private(token_file, devices.rotate(request, device) + "\n")
            result.append((site, zone, folder))
    return result


def collector_config(
    server_url: str, site_id: int, zone_id: int, targets: list[str], public_keys=()
) -> dict:
    config = {
        "server": {
            "url": server_url,
            "token_file": "token",
            "site_id": str(site_id),
            "zone_id": str(zone_id),
            "timeout_s": 15,
        },
        "collector": {"state_dir": "state"},
        "miners": {
            "targets": targets,
            "timeout_s": 3,
            "scan_timeout_s": 1.5,
            # A short rescan so miners the first scan missed (simulator still starting)
            # are found soon.
            "rescan_interval_s": 60,
        },
        # A 30-second poll, as a real farm would run; the 10-second "latest" stream is off so
        # raw holds one row per miner per poll.
        "poll": {"raw_interval_s": 30, "latest_interval_s": 0},
        "upload": {"backoff_initial_s": 1, "backoff_max_s": 10},
        "credentials": {"antminer_web_port": SIM_HTTP_PORT},
    }
    if public_keys:  # the control plane signs approved commands: run them
        config["commands"] = {"enabled": True, "public_keys": list(public_keys)}
    return config


def _match_keys(request, zone, state_dir: Path, block: str) -> int:
    """Store the key the zone's collector will report each miner by; returns the changes."""
    from edge_collector.poller import miner_key_for
    from plugins.hosting.models import Miner

    salt = _salt(state_dir)
    identities = _identities(farm_description())
    by_serial = {serial: ip for ip, (serial, _mac) in identities.items() if ip.startswith(block)}
    changed = 0
    miners = request.dbsession.scalars(
        sa.select(Miner).where(Miner.zone_id == zone.id, Miner.serial.in_(list(by_serial)))
    )
    for miner in miners:
        key = miner_key_for(by_serial[miner.serial], salt)
        if miner.miner_key != key:
            miner.miner_key = key
            changed += 1
    request.dbsession.flush()
    return changed


def _port_open(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def prepare(request, var_dir: Path, server_url: str) -> list[dict]:
    """Seed (once), register devices, write the files; return the processes to start."""
    out = Path(var_dir) / DEMO_DIR
    out.mkdir(parents=True, exist_ok=True)
    description = farm_description()
    created = seed_farm(request, description)
    if created:
        seed_operations(request)
    farm_file = out / "farm.toml"
    farm_file.write_text(toml_text(description))
    edge = [sys.executable, "-m", "edge_collector.cli"]
    first_ip = f"{zone_block(1)}.1"
    processes = [
        {
            "name": "simulator",
            "argv": [*edge, "simulate", str(farm_file)],
            # Collectors scan once at start: let the miners listen first.
            "ready": lambda: _port_open(first_ip, 4028),
        }
    ]
    number = 0
    site_numbers = {}
    for site_spec in FARM:
        for zone_spec in site_spec.zones:
            number += 1
            site_numbers[zone_spec.slug] = number
    signer = request.registry.get("controlplane.signer")
    public_keys = [signer.public_key_text] if signer is not None and signer.can_sign else []
    for _site, zone, folder in ensure_devices(request, out):
        slug = folder.name.removeprefix("edge-")
        n = site_numbers[slug]
        count = sum(g.count for s in FARM for z in s.zones if z.slug == slug for g in z.groups)
        targets = [f"{zone_block(n)}.1-{zone_block(n)}.{count}"]
        config_file = folder / "edge.toml"
        config_file.write_text(
            toml_text(collector_config(server_url, zone.site_id, zone.id, targets, public_keys))
        )
        _match_keys(request, zone, folder / "state", zone_block(n) + ".")
        processes.append(
            {"name": f"collector {slug}", "argv": [*edge, "run", "-c", str(config_file)]}
        )
    log.info("demo farm %s; %d processes", "seeded" if created else "already there", len(processes))
    return processes
