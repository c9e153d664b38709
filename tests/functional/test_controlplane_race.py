"""Races on PostgreSQL: two people (or two devices) acting on one command at the same moment
lead to exactly one transition. Each trial starts two transactions, lines them up on a
barrier, then lets both act; the row lock and the conditional UPDATE decide the winner."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from hashinsight_core.exceptions import DomainError
from hashinsight_core.models import User
from hashinsight_core.tasks import run_in_request
from plugins.controlplane import services
from plugins.controlplane.models import Approval, CommandTarget
from tests.conftest import backend, make_user

TRIALS = 25

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="row locks and concurrent writers need PostgreSQL"
)


@pytest.fixture
def setup(make_app, engine, dbsession, tmp_path):
    from hashinsight_core.models import Customer
    from plugins.controlplane.signing import write_key_file
    from plugins.hosting import devices
    from plugins.hosting.models import EdgeDevice, Miner, Site, Zone

    key = tmp_path / "k.key"
    write_key_file(key)
    _, registry = make_app(controlplane__signing_key_file=str(key))
    acme = Customer(name="Acme")
    site = Site(name="Race site")
    dbsession.add_all([acme, site])
    dbsession.flush()
    zone = Zone(site_id=site.id, name="Z1")
    dbsession.add(zone)
    dbsession.flush()
    miner = Miner(
        serial="RACE1",
        miner_key="k1",
        model_name="S19",
        site_id=site.id,
        zone_id=zone.id,
        customer_id=acme.id,
        status="online",
    )
    dbsession.add(miner)
    for name in ("d1", "d2"):
        dbsession.add(
            EdgeDevice(
                name=name,
                site_id=site.id,
                zone_id=zone.id,
                token_hash=devices.digest(f"hie_{name}"),
                token_prefix=name,
            )
        )
    dbsession.flush()
    dbsession.commit_now()
    people = {}
    for name, role, customer in (
        ("operator", "operator", None),
        ("admin", "admin", None),
        ("owner", "owner", None),
        ("acme", "customer", acme.id),
    ):
        email, _ = make_user(engine, role, customer_id=customer)
        with sa.orm.Session(engine) as session:
            people[name] = session.scalar(sa.select(User.id).where(User.email == email))
    return registry, people, site.id, miner.id


def as_user(user_id, func):
    def run(request):
        request.user = request.dbsession.get(User, user_id)
        return func(request)

    return run


def create(registry, user_id, site_id, miner_id, command_type) -> int:
    def make(request):
        return services.create_command(
            request, site_id, command_type, {}, "race", {"miner_ids": [miner_id]}
        ).id

    return run_in_request(registry, as_user(user_id, make))


def together(registry, *actions):
    """Run each ``(user_id or None, func)`` in its own transaction, released at once."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def worker(index, user_id, func):
        def run(request):
            if user_id is not None:
                request.user = request.dbsession.get(User, user_id)
            request.dbsession.execute(sa.text("SELECT 1"))  # the transaction has begun
            barrier.wait(timeout=10)
            return func(request)

        try:
            results[index] = ("ok", run_in_request(registry, run))
        except DomainError as error:
            results[index] = (error.status, str(error))

    threads = [
        threading.Thread(target=worker, args=(i, user, func))
        for i, (user, func) in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def audit_count(engine, command_id, tag) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text(
                "SELECT count(*) FROM core_audit_events WHERE subject_type = 'command' "
                "AND subject_id = :id AND tag = :tag"
            ),
            {"id": str(command_id), "tag": tag},
        )


def status_of(engine, command_id) -> str:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT status FROM controlplane_commands WHERE id = :id"), {"id": command_id}
        )


def test_two_approvers_at_once_make_exactly_one_transition(setup, engine):
    registry, people, site_id, miner_id = setup
    for _ in range(TRIALS):
        command_id = create(registry, people["operator"], site_id, miner_id, "sleep")

        def approve(request, command_id=command_id):
            return services.decide(request, command_id, "approve").status

        results = together(registry, (people["admin"], approve), (people["owner"], approve))
        assert sorted(r[0] for r in results if r[0] != "ok") == [409], results
        assert [r for r in results if r[0] == "ok"] == [("ok", "APPROVED")]
        assert status_of(engine, command_id) == "APPROVED"
        assert audit_count(engine, command_id, "controlplane:command:approved") == 1
        with engine.connect() as conn:
            approvals = conn.scalar(
                sa.select(sa.func.count())
                .select_from(Approval)
                .where(Approval.command_id == command_id)
            )
        assert approvals == 1


def test_approve_against_reject_ends_in_exactly_one_decision(setup, engine):
    registry, people, site_id, miner_id = setup
    outcomes = set()
    for _ in range(TRIALS):
        command_id = create(registry, people["operator"], site_id, miner_id, "sleep")
        results = together(
            registry,
            (people["admin"], lambda r, c=command_id: services.decide(r, c, "approve").status),
            (people["owner"], lambda r, c=command_id: services.decide(r, c, "reject", "no")),
        )
        assert sorted(str(r[0]) for r in results) == ["409", "ok"], results
        final = status_of(engine, command_id)
        outcomes.add(final)
        moved = audit_count(engine, command_id, "controlplane:command:approved") + audit_count(
            engine, command_id, "controlplane:command:rejected"
        )
        assert moved == 1 and final in {"APPROVED", "REJECTED"}
    assert outcomes  # which side wins is up to the scheduler; one always does


def test_customer_and_owner_approving_a_high_risk_command_at_once_approve_it_once(setup, engine):
    registry, people, site_id, miner_id = setup
    for _ in range(TRIALS):
        command_id = create(registry, people["operator"], site_id, miner_id, "reboot")

        def approve(request, command_id=command_id):
            return services.decide(request, command_id, "approve").status

        results = together(registry, (people["acme"], approve), (people["owner"], approve))
        assert all(r[0] == "ok" for r in results), results  # two slots, both filled
        assert sorted(r[1] for r in results) == ["APPROVED", "PENDING_APPROVAL"]
        assert audit_count(engine, command_id, "controlplane:command:approved") == 1


def test_two_devices_of_a_zone_polling_at_once_never_both_get_a_miner(setup, engine):
    from plugins.hosting.models import EdgeDevice

    registry, people, site_id, miner_id = setup
    with sa.orm.Session(engine) as session:
        device_ids = list(session.scalars(sa.select(EdgeDevice.id).order_by(EdgeDevice.id)))
    for _ in range(TRIALS):
        command_id = create(registry, people["owner"], site_id, miner_id, "wake")  # low risk

        def fetch(request, device_id):
            device = request.dbsession.get(EdgeDevice, device_id)
            return [c["id"] for c in services.fetch_for_device(request, device, signed_only=True)]

        results = together(
            registry,
            (None, lambda r: fetch(r, device_ids[0])),
            (None, lambda r: fetch(r, device_ids[1])),
        )
        assert all(r[0] == "ok" for r in results), results
        served = [ids for _, ids in results]
        assert sorted(len(ids) for ids in served) == [0, 1], served
        with sa.orm.Session(engine) as session:
            target = session.scalar(
                sa.select(CommandTarget).where(CommandTarget.command_id == command_id)
            )
        assert target.status == "dispatched" and target.device_id in device_ids
        assert audit_count(engine, command_id, "controlplane:command:dispatched") == 1
        assert audit_count(engine, command_id, "controlplane:command:deliver") == 1
        # Leave nothing open for the next trial.
        run_in_request(
            registry,
            as_user(people["owner"], lambda r, c=command_id: services.cancel_command(r, c)),
        )
