"""Objects for the ABAC matrix: for every model served by an object route, how to make one that
belongs to the test's "own" customer and site, and one that belongs to a foreign one.

``tests/functional/test_abac.py`` fails for a route whose model has no maker here, so a new
object route cannot skip the own/foreign check. A maker gets a session and the :class:`World`
and returns a flushed object; extra URL placeholders (``{site_id}`` …) are read from the
object's attributes of the same name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class World:
    """Two customers and two sites: "own" ones (A, S1) and "foreign" ones (B, S2)."""

    customer: dict[str, int] = field(default_factory=dict)  # side -> customer id
    site: dict[str, int] = field(default_factory=dict)  # side -> site id


@dataclass(frozen=True)
class Maker:
    make: Callable  # (dbsession, world, side) -> object
    # Principals for whom the own object is visible. A site-limited operator always is; a
    # customer user sees own objects only of tables that belong to a customer.
    customer_sees_own: bool = True


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _customer(dbsession, world: World, side: str):
    from hashinsight_core.models import Customer

    return dbsession.get(Customer, world.customer[side])


def _site(dbsession, world, side):
    # A customer sees the sites where it has miners: give the side's customer one here.
    from plugins.hosting.models import Site

    _miner(dbsession, world, side)
    return dbsession.get(Site, world.site[side])


def _zone_with_miner(dbsession, world, side):
    from plugins.hosting.models import Zone

    return dbsession.get(Zone, _miner(dbsession, world, side).zone_id)


def _zone(dbsession, world, side):
    from plugins.hosting.models import Zone

    zone = Zone(site_id=world.site[side], name=_unique(f"{side} zone"))
    dbsession.add(zone)
    dbsession.flush()
    return zone


def _miner(dbsession, world, side):
    from plugins.hosting.models import Miner

    zone = _zone(dbsession, world, side)
    miner = Miner(
        serial=uuid.uuid4().hex[:16].upper(),
        model_name="S19",
        site_id=zone.site_id,
        zone_id=zone.id,
        customer_id=world.customer[side],
    )
    dbsession.add(miner)
    dbsession.flush()
    return miner


def _device(dbsession, world, side):
    from plugins.hosting.models import EdgeDevice

    zone = _zone(dbsession, world, side)
    device = EdgeDevice(
        name=_unique(f"{side} device"),
        site_id=zone.site_id,
        zone_id=zone.id,
        token_hash=uuid.uuid4().hex * 2,
        token_prefix="hie_test",
    )
    dbsession.add(device)
    dbsession.flush()
    return device


def _candidate(dbsession, world, side):
    from plugins.hosting.models import DiscoveryCandidate

    zone = _zone(dbsession, world, side)
    candidate = DiscoveryCandidate(
        site_id=zone.site_id, zone_id=zone.id, miner_key=uuid.uuid4().hex
    )
    dbsession.add(candidate)
    dbsession.flush()
    return candidate


def _command(dbsession, world, side):
    import datetime as dt

    from hashinsight_core.db import utcnow
    from plugins.controlplane.models import Command, CommandTarget

    miner = _miner(dbsession, world, side)
    now = utcnow()
    command = Command(
        site_id=miner.site_id,
        command_type="sleep",
        params={},
        status="PENDING_APPROVAL",
        reason="",
        expires_at=now + dt.timedelta(hours=1),
        customer_id=miner.customer_id,
        selector={"miner_ids": [miner.id]},
        risk="medium",
        required=["approver"],
        requester_role="",
        digest="0" * 64,
        status_reason="",
        created_at=now,
        updated_at=now,
    )
    dbsession.add(command)
    dbsession.flush()
    dbsession.add(
        CommandTarget(
            command_id=command.id,
            miner_id=miner.id,
            site_id=miner.site_id,
            zone_id=miner.zone_id,
            customer_id=miner.customer_id,
            miner_key="",
            serial=miner.serial,
            status="pending",
            signature="",
            deliveries=0,
            result_code="",
            result_message="",
            error_class="",
            outcome="",
            outcome_note="",
        )
    )
    dbsession.flush()
    return command


MAKERS: dict[str, Maker] = {
    "Customer": Maker(_customer),
    "Site": Maker(_site),
    "Zone": Maker(_zone_with_miner),
    "Miner": Maker(_miner),
    # Devices and discovery candidates belong to a zone, not to a customer.
    "EdgeDevice": Maker(_device, customer_sees_own=False),
    "DiscoveryCandidate": Maker(_candidate, customer_sees_own=False),
    # A command of the side's customer's miner (controlplane).
    "Command": Maker(_command),
}


def build_world(dbsession) -> World:
    """Create the two customers and two sites; commit so the app sees them."""
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Site

    world = World()
    for side in ("own", "foreign"):
        customer = Customer(name=_unique(f"{side} customer"))
        site = Site(name=_unique(f"{side} site"))
        dbsession.add_all([customer, site])
        dbsession.flush()
        world.customer[side] = customer.id
        world.site[side] = site.id
    return world


def _alert_rule(dbsession, world, side):
    from plugins.hosting.alerts.models import AlertRule

    zone = _zone(dbsession, world, side)
    rule = AlertRule(
        name=_unique(f"{side} rule"),
        kind="high_temp",
        threshold=85.0,
        site_id=zone.site_id,
        zone_id=zone.id,
        customer_id=world.customer[side],
    )
    dbsession.add(rule)
    dbsession.flush()
    return rule


def _alert(dbsession, world, side):
    import datetime as dt

    from plugins.hosting.alerts.models import Alert

    miner = _miner(dbsession, world, side)
    alert = Alert(
        rule_name="hot",
        kind="high_temp",
        severity="warning",
        subject_type="miner",
        subject_id=miner.id,
        subject_label=miner.serial,
        site_id=miner.site_id,
        zone_id=miner.zone_id,
        customer_id=miner.customer_id,
        since=dt.datetime(2026, 12, 3, 12, 0),
    )
    dbsession.add(alert)
    dbsession.flush()
    return alert


MAKERS["AlertRule"] = Maker(_alert_rule)
MAKERS["Alert"] = Maker(_alert)


def _ticket(dbsession, world, side):
    import datetime as dt

    from plugins.hosting.tickets.models import Ticket, TicketMiner

    miner = _miner(dbsession, world, side)
    now = dt.datetime(2026, 12, 3, 12, 0)
    ticket = Ticket(
        title=_unique(f"{side} ticket"),
        category="fan",
        priority="normal",
        status="open",
        source="customer",
        customer_id=miner.customer_id,
        site_id=miner.site_id,
        zone_id=miner.zone_id,
        created_at=now,
        updated_at=now,
        response_due_at=now + dt.timedelta(hours=8),
        resolution_due_at=now + dt.timedelta(hours=72),
    )
    dbsession.add(ticket)
    dbsession.flush()
    dbsession.add(TicketMiner(ticket_id=ticket.id, miner_id=miner.id))
    dbsession.flush()
    return ticket


def _ticket_attachment(dbsession, world, side):
    from plugins.hosting.tickets.models import TicketAttachment

    ticket = _ticket(dbsession, world, side)
    data = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    attachment = TicketAttachment(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        site_id=ticket.site_id,
        zone_id=ticket.zone_id,
        filename="pixel.gif",
        content_type="image/gif",
        size=len(data),
        sha256="0" * 64,
        data=data,
    )
    dbsession.add(attachment)
    dbsession.flush()
    return attachment


MAKERS["Ticket"] = Maker(_ticket)
MAKERS["TicketAttachment"] = Maker(_ticket_attachment)


def _brand(dbsession, world, side):
    # Brands are the provider's set-up: no customer's, so customers never reach one (404).
    from plugins.hosting.brands.models import Brand

    name = _unique(f"{side} brand")
    brand = Brand(name=name, slug=name.lower().replace(" ", "-"))
    dbsession.add(brand)
    dbsession.flush()
    return brand


MAKERS["Brand"] = Maker(_brand, customer_sees_own=False)


def _excused_event(dbsession, world, side):
    import datetime as dt

    from plugins.hosting.kpi.models import ExcusedEvent

    miner = _miner(dbsession, world, side)
    event = ExcusedEvent(
        kind="customer_pause",
        site_id=miner.site_id,
        zone_id=miner.zone_id,
        customer_id=miner.customer_id,
        starts_at=dt.datetime(2026, 12, 1, 0, 0),
    )
    dbsession.add(event)
    dbsession.flush()
    return event


MAKERS["ExcusedEvent"] = Maker(_excused_event)
