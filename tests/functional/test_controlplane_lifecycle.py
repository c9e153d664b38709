"""A hypothesis state machine over the real command services: random sequences of requests,
approvals, rejections, cancels, expiry (the clock jumps), device fetches and acks by random
people and devices. After every step the invariants of the design must hold:

- the audit trail of every command is a path of legal edges from PENDING, one event per move;
- final states are final;
- no one approved their own request;
- nothing reached a device without the approvals its risk needs (and a valid signature);
- no miner was handed to two devices, or handed out twice, or after the command expired.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from edge_collector import signing as wire_signing
from hashinsight_core.db import utcnow
from hashinsight_core.exceptions import DomainError
from hashinsight_core.models import Customer, User
from hashinsight_core.tasks import run_in_request
from plugins.controlplane import services
from plugins.controlplane.models import Approval, Command, CommandTarget
from plugins.controlplane.signing import write_key_file
from plugins.controlplane.states import TERMINAL, TRANSITIONS, CommandStatus
from tests.conftest import make_user

ACTORS = ("owner", "admin", "operator", "operator2", "acme", "beta")
TYPES = ("wake", "sleep", "reboot")  # low, medium, high by default
MINERS = ("M1", "M2", "M5")  # Acme's, nobody's, Beta's; all in zone A1
ACKS = ("completed", "failed", "skipped", "rejected", "duplicate")


@pytest.fixture
def world(make_app, engine, dbsession, tmp_path):
    from plugins.hosting import devices
    from plugins.hosting.models import EdgeDevice, Miner, Site, Zone

    key_path = tmp_path / "k.key"
    private = write_key_file(key_path)
    _, registry = make_app(controlplane__signing_key_file=str(key_path))
    acme, beta = Customer(name="Acme"), Customer(name="Beta")
    site = Site(name="Machine site")
    dbsession.add_all([acme, beta, site])
    dbsession.flush()
    zone = Zone(site_id=site.id, name="A1")
    dbsession.add(zone)
    dbsession.flush()
    miners = {}
    for name, owner in (("M1", acme), ("M2", None), ("M5", beta)):
        miner = Miner(
            serial=name,
            miner_key=f"k-{name}",
            model_name="S19",
            site_id=site.id,
            zone_id=zone.id,
            customer_id=owner.id if owner else None,
            status="online",
        )
        dbsession.add(miner)
        miners[name] = miner
    device_rows = []
    for name in ("d1", "d2"):
        device = EdgeDevice(
            name=name,
            site_id=site.id,
            zone_id=zone.id,
            token_hash=devices.digest(f"hie_{name}"),
            token_prefix=name,
        )
        dbsession.add(device)
        device_rows.append(device)
    dbsession.flush()
    dbsession.commit_now()
    people = {}
    for name, role, customer in (
        ("owner", "owner", None),
        ("admin", "admin", None),
        ("operator", "operator", None),
        ("operator2", "operator", None),
        ("acme", "customer", acme.id),
        ("beta", "customer", beta.id),
    ):
        email, _ = make_user(engine, role, customer_id=customer)
        with sa.orm.Session(engine) as session:
            people[name] = session.scalar(sa.select(User.id).where(User.email == email))
    public = wire_signing.public_bytes(private)
    return {
        "registry": registry,
        "people": people,
        "site": site.id,
        "miners": {k: m.id for k, m in miners.items()},
        "devices": [d.id for d in device_rows],
        "keys": {wire_signing.key_id(public): public},
    }


def audit_trail(conn, command_id) -> list[tuple[str, dict]]:
    rows = conn.execute(
        sa.text(
            "SELECT tag, payload FROM core_audit_events WHERE subject_type = 'command' "
            "AND subject_id = :id ORDER BY seq"
        ),
        {"id": str(command_id)},
    )
    return [(tag, json.loads(payload) if payload else {}) for tag, payload in rows]


def test_the_command_lifecycle_keeps_its_invariants(world, engine):
    registry, people = world["registry"], world["people"]

    def call(user_id, func):
        def run(request):
            if user_id is not None:
                request.user = request.dbsession.get(User, user_id)
            return func(request)

        try:
            return run_in_request(registry, run)
        except DomainError as error:
            assert 400 <= error.status < 500, error.message
            return None

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.commands: list[int] = []
            self.seen_final: dict[int, str] = {}
            self.served: dict[str, set] = {}  # wire id -> devices it was handed to

        @rule(
            actor=st.sampled_from(ACTORS),
            kind=st.sampled_from(TYPES),
            miner=st.sampled_from(MINERS),
        )
        def request(self, actor, kind, miner):
            def make(request):
                return services.create_command(
                    request,
                    world["site"],
                    kind,
                    {},
                    "",
                    {"miner_ids": [world["miners"][miner]]},
                ).id

            command_id = call(people[actor], make)
            if command_id is not None:
                self.commands.append(command_id)

        @rule(actor=st.sampled_from(ACTORS), pick=st.integers(0, 50), approve=st.booleans())
        def decide(self, actor, pick, approve):
            if not self.commands:
                return
            command_id = self.commands[pick % len(self.commands)]
            decision = "approve" if approve else "reject"
            call(
                people[actor],
                lambda r: services.decide(r, command_id, decision, "because"),
            )

        @rule(actor=st.sampled_from(ACTORS), pick=st.integers(0, 50))
        def cancel(self, actor, pick):
            if self.commands:
                command_id = self.commands[pick % len(self.commands)]
                call(people[actor], lambda r: services.cancel_command(r, command_id))

        @rule(pick=st.integers(0, 50))
        def time_passes(self, pick):
            if not self.commands:
                return
            command_id = self.commands[pick % len(self.commands)]
            with engine.begin() as conn:
                conn.execute(
                    sa.update(Command)
                    .where(Command.id == command_id)
                    .values(expires_at=utcnow() - dt.timedelta(seconds=1))
                )
            call(None, services.expire_commands)

        @rule(which=st.integers(0, 1))
        def fetch(self, which):
            from plugins.hosting.models import EdgeDevice

            device_id = world["devices"][which]

            def run(request):
                device = request.dbsession.get(EdgeDevice, device_id)
                return services.fetch_for_device(request, device, signed_only=True)

            asked_at = utcnow()
            for body in call(None, run) or []:
                wire_signing.verify(body, world["keys"])  # signed, approvals as required
                # Never handed out once expired (time only jumps between steps).
                expires = dt.datetime.fromisoformat(body["expires_at"].removesuffix("Z"))
                assert expires > asked_at
                self.served.setdefault(body["id"], set()).add(device_id)

        @rule(which=st.integers(0, 1), pick=st.integers(0, 50), status=st.sampled_from(ACKS))
        def ack(self, which, pick, status):
            from plugins.hosting.models import EdgeDevice

            if not self.served:
                return
            target_id = sorted(self.served)[pick % len(self.served)]
            device_id = world["devices"][which]

            def run(request):
                device = request.dbsession.get(EdgeDevice, device_id)
                return services.acknowledge(request, device, target_id, {"status": status})

            try:
                call(None, run)
            except services.DeviceProblem as problem:
                assert problem.status in (403, 409, 422), problem.message

        @invariant()
        def every_device_got_each_miner_alone(self):
            for wire_id, devices in self.served.items():
                assert len(devices) == 1, (wire_id, devices)

        @invariant()
        def the_records_keep_the_rules(self):
            if not self.commands:
                return
            with engine.connect() as conn:
                rows = conn.execute(sa.select(Command).where(Command.id.in_(self.commands))).all()
                for command in rows:
                    self.check(conn, command)

        def check(self, conn, command):
            # Final states are final.
            if command.id in self.seen_final:
                assert command.status == self.seen_final[command.id]
            if CommandStatus(command.status) in TERMINAL:
                self.seen_final[command.id] = command.status
            # The audit trail is a path of legal edges, one event per move, ending where the
            # command is.
            trail = audit_trail(conn, command.id)
            state = CommandStatus.PENDING
            delivered: list[int] = []
            for tag, payload in trail:
                action = tag.rsplit(":", 1)[1]
                if action.upper() in CommandStatus.__members__:
                    new = CommandStatus(action.upper())
                    assert new in TRANSITIONS[state], (command.id, state, new)
                    assert payload["from"] == state.value and payload["to"] == new.value
                    state = new
                if action == "deliver":
                    delivered.extend(payload["targets"])
            assert state.value == command.status
            # No miner handed out twice.
            assert len(delivered) == len(set(delivered)), delivered
            approvals = list(
                conn.execute(sa.select(Approval).where(Approval.command_id == command.id))
            )
            # No self-approval, one decision per person, all for this exact command.
            assert all(a.user_id != command.requested_by_id for a in approvals)
            assert len({a.user_id for a in approvals}) == len(approvals)
            assert all(a.digest == command.digest for a in approvals)
            targets = list(
                conn.execute(sa.select(CommandTarget).where(CommandTarget.command_id == command.id))
            )
            handed = [t for t in targets if t.dispatched_at is not None]
            if handed:
                # Nothing reached a device without the approvals its risk needs.
                assert command.risk == "low" or services.requirements_met(command, approvals)
                assert command.approved_at is not None
                assert all(t.signature for t in handed)
                assert command.status not in ("PENDING", "PENDING_APPROVAL", "REJECTED")

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=int(__import__("os").environ.get("HASHINSIGHT_MACHINE_EXAMPLES", 40)),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
