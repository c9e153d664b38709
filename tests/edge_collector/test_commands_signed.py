"""Signed commands on the collector: a command runs only when a trusted key signed exactly it
and its approvals satisfy its risk; tampered, forged, unsigned and under-approved commands are
refused, reported to the server and never touch the miner."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_collector import signing
from edge_collector.commands import configured_keys
from edge_collector.config import build_config
from edge_collector.service import Collector

from .receiver import TOKEN, Receiver

KEY = Ed25519PrivateKey.generate()
PUBLIC = signing.public_bytes(KEY)
DIGEST = hashlib.sha256(b"the approved command").hexdigest()


@pytest.fixture
def rig(make_farm, tmp_path):
    sim = make_farm({"S19": 1}, reboot_s=0.3)
    receiver = Receiver()
    config = build_config(
        {
            "server": {"url": receiver.url, "device_token": TOKEN, "site_id": "Site A"},
            "collector": {"state_dir": str(tmp_path / "state")},
            "miners": {"targets": [f"{sim.block}.1"], "timeout_s": 1},
            "commands": {
                "enabled": True,
                "allow_unsigned": False,
                "verify_interval_s": 0.05,
                "verify_timeout_s": 8,
            },
            "credentials": {"antminer_web_port": sim.http_port},
        }
    )
    collector = Collector(config)
    collector.commands.keys = {signing.key_id(PUBLIC): PUBLIC}
    asyncio.run(collector.discover())
    ip = next(iter(sim.miners))
    yield sim, receiver, collector, ip
    receiver.stop()
    collector.spool.close()


_ids = iter(range(1, 10_000))


def signed(collector, ip, action="sleep", *, risk="medium", approvals=None, key=KEY, **extra):
    """A command as the server hands it out, signed by ``key``."""
    body = {
        "id": str(next(_ids)),
        "command_id": 7,
        "site_id": "1",
        "site_name": "Site A",
        "zone_id": "3",
        "zone_name": "A1",
        "miner_key": collector.infos[ip].miner_key,
        "miner_id": 12,
        "action": action,
        "params": {},
        "issued_at": datetime.now(UTC).isoformat(),
        "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        "digest": DIGEST,
        "risk": risk,
        "customer_id": 4,
        "requested_by": 1,
        "requester_role": "",
        "approvals": [{"user_id": 2, "role": "admin", "digest": DIGEST, "at": "x"}]
        if approvals is None
        else approvals,
    }
    body.update(extra)
    body["signature"] = signing.sign(body, key)
    return body


def run(collector, receiver, *bodies):
    receiver.commands = list(bodies)

    async def go():
        return await asyncio.gather(*await collector.commands.poll_once())

    return asyncio.run(go())


def test_a_signed_and_approved_command_runs(rig):
    sim, receiver, collector, ip = rig
    [ack] = run(collector, receiver, signed(collector, ip))
    assert ack["status"] == "completed", ack
    assert sim.miners[ip].mode == "sleep"


def _tampered(body, change):
    body = copy.deepcopy(body)
    change(body)
    return body


@pytest.mark.parametrize(
    ("change", "error_class"),
    [
        (lambda b: b.update(action="reboot"), "bad_signature"),
        (lambda b: b.update(params={"mode": "high"}), "bad_signature"),
        (lambda b: b.update(expires_at="2099-01-01T00:00:00+00:00"), "bad_signature"),
        (lambda b: b["approvals"].append({"user_id": 3, "role": "hosting"}), "bad_signature"),
        (lambda b: b.update(risk="low"), "bad_signature"),
        (lambda b: b.update(signature=""), "unsigned"),
        (lambda b: b.update(signature="ed25519:00000000:AAAA"), "bad_signature"),
        (lambda b: b.update(signature="c2lnbmVk"), "bad_signature"),
    ],
    ids=["action", "params", "expiry", "approvals", "risk", "unsigned", "unknown-key", "junk"],
)
def test_a_tampered_or_unsigned_command_is_refused_and_reported(rig, change, error_class):
    sim, receiver, collector, ip = rig
    body = _tampered(signed(collector, ip), change)
    [ack] = run(collector, receiver, body)
    assert (ack["status"], ack["error_class"]) == ("rejected", error_class), ack["message"]
    assert sim.miners[ip].mode == "normal"  # untouched
    assert receiver.acks[-1]["command_id"] == body["id"]  # the server hears about it


def test_a_command_signed_by_another_key_is_refused(rig):
    sim, receiver, collector, ip = rig
    [ack] = run(collector, receiver, signed(collector, ip, key=Ed25519PrivateKey.generate()))
    assert (ack["error_class"], "not trusted" in ack["message"]) == ("bad_signature", True)
    assert sim.miners[ip].mode == "normal"


@pytest.mark.parametrize(
    ("risk", "approvals", "requester_role", "words"),
    [
        ("medium", [], "", "needs one approval"),
        ("medium", [{"user_id": 1, "role": "admin", "digest": DIGEST}], "", "own command"),
        ("medium", [{"user_id": 2, "role": "admin", "digest": "0" * 64}], "", "another command"),
        ("high", [{"user_id": 2, "role": "hosting", "digest": DIGEST}], "", "two people"),
        ("high", [{"user_id": 2, "role": "customer", "digest": DIGEST}], "customer", "two people"),
        (
            "high",
            [
                {"user_id": 2, "role": "hosting", "digest": DIGEST},
                {"user_id": 2, "role": "customer", "digest": DIGEST},
            ],
            "",
            "approved twice",
        ),
        ("extreme", [], "", "unknown risk"),
    ],
)
def test_a_validly_signed_command_without_the_approvals_its_risk_needs_is_refused(
    rig, risk, approvals, requester_role, words
):
    sim, receiver, collector, ip = rig
    body = signed(collector, ip, risk=risk, approvals=approvals, requester_role=requester_role)
    [ack] = run(collector, receiver, body)
    assert (ack["status"], ack["error_class"]) == ("rejected", "bad_approvals")
    assert words in ack["message"]
    assert sim.miners[ip].mode == "normal"


def test_high_risk_with_the_customer_asking_and_the_owner_approving_runs(rig):
    sim, receiver, collector, ip = rig
    body = signed(
        collector,
        ip,
        "reboot",
        risk="high",
        requester_role="customer",
        approvals=[{"user_id": 2, "role": "hosting", "digest": DIGEST}],
    )
    [ack] = run(collector, receiver, body)
    assert ack["status"] == "completed", ack
    assert ack["after"]["uptime_s"] < ack["before"]["uptime_s"]


def test_a_replayed_signed_command_is_a_duplicate(rig):
    sim, receiver, collector, ip = rig
    body = signed(collector, ip)
    [first] = run(collector, receiver, body)
    [again] = run(collector, receiver, body)
    assert first["status"] == "completed"
    assert (again["status"], again["error_class"]) == ("duplicate", "duplicate")


def test_the_site_is_matched_by_id_or_name(rig):
    sim, receiver, collector, ip = rig
    [ack] = run(collector, receiver, signed(collector, ip, site_name="Site B"))
    assert ack["error_class"] == "site_mismatch"


def test_without_a_trusted_key_a_signed_command_cannot_run(rig):
    sim, receiver, collector, ip = rig
    collector.commands.keys = {}
    [ack] = run(collector, receiver, signed(collector, ip))
    assert ack["error_class"] == "bad_signature" and "no trusted" in ack["message"]


def test_public_keys_come_from_the_environment(monkeypatch, tmp_path):
    text = base64.b64encode(PUBLIC).decode()
    monkeypatch.setenv(signing.PUBLIC_KEYS_VARIABLE, text)
    config = build_config({"server": {"url": "http://127.0.0.1:9", "site_id": "1"}})
    assert configured_keys(config) == {signing.key_id(PUBLIC): PUBLIC}
    monkeypatch.setenv(signing.PUBLIC_KEYS_VARIABLE, "not-base64!")
    assert configured_keys(config) == {}


def test_the_signed_bytes_are_canonical_and_ignore_unsigned_fields():
    body = {"id": "1", "params": {"b": 1, "a": 2}, "approvals": []}
    same = {"approvals": [], "params": {"a": 2, "b": 1}, "id": "1", "hint": "ignored"}
    assert signing.signed_bytes(body) == signing.signed_bytes(same)
    assert signing.signed_bytes(body) != signing.signed_bytes({**body, "id": "2"})
    with pytest.raises(ValueError):
        signing.read_public_key(base64.b64encode(b"short").decode())
