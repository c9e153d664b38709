"""End to end with the simulator: a customer asks for a reboot of their miner (high risk), the
owner approves, our collector fetches the signed command, checks it, reboots the simulated
miner (it goes away and comes back), acknowledges; telemetry confirms the new uptime; the
command ends COMPLETED and confirmed, and the audit chain shows each step and verifies."""

from __future__ import annotations

import asyncio
import base64

import sqlalchemy as sa
from webtest import TestApp

from edge_collector import signing as wire_signing
from edge_collector.config import build_config
from edge_collector.service import Collector
from edge_collector.uploader import Response, ServerClient
from edge_collector.wire import encode_gzip_json
from hashinsight_core.tasks import run_in_request
from plugins.controlplane.services import expire_commands
from plugins.controlplane.signing import write_key_file
from tests.conftest import api_headers, login
from tests.edge_collector.conftest import make_farm  # noqa: F401 - a fixture


class WsgiClient(ServerClient):
    """The collector's own client, speaking to the app through WebTest instead of a socket."""

    def __init__(self, app: TestApp, token: str):
        super().__init__("http://localhost", token, device_id="edge-e2e")
        self.app = app

    def request(self, method, path, body=None, *, gzip_body=False, headers=None):
        all_headers = self._headers() | (headers or {})
        data = b""
        if body is not None:
            if gzip_body:
                data = encode_gzip_json(body)
                all_headers |= {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            else:
                import json

                data = json.dumps(body).encode()
                all_headers["Content-Type"] = "application/json"
        response = self.app.request(path, method=method, body=data, headers=all_headers, status="*")
        payload = response.json if response.body else None
        return Response(response.status_int, payload)


def test_a_customer_reboot_approved_by_the_owner_runs_on_the_simulator(
    make_app,
    engine,
    dbsession,
    make_farm,  # noqa: F811 - the simulator fixture imported above
    tmp_path,
):
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Miner, Site, Zone

    key_path = tmp_path / "command-signing.key"
    write_key_file(key_path)
    app, registry = make_app(controlplane__signing_key_file=str(key_path))

    sim = make_farm({"S19": 1}, reboot_s=0.4)
    acme = Customer(name="Acme")
    site = Site(name="Site A")
    dbsession.add_all([acme, site])
    dbsession.flush()
    zone = Zone(site_id=site.id, name="A1")
    dbsession.add(zone)
    dbsession.flush()
    dbsession.commit_now()

    owner = TestApp(app.app, extra_environ=dict(app.extra_environ))
    login(owner, engine, "owner")
    token = owner.post_json(
        f"/api/v1/hosting/zones/{zone.id}/devices", {"name": "e2e"}, headers=api_headers(owner)
    ).json["token"]

    config = build_config(
        {
            "server": {
                "url": "http://localhost",
                "device_token": token,
                "site_id": "Site A",
                "zone_id": "A1",
            },
            "collector": {"state_dir": str(tmp_path / "state")},
            "miners": {"targets": [f"{sim.block}.1"], "timeout_s": 1},
            "commands": {"enabled": True, "verify_interval_s": 0.05, "verify_timeout_s": 10},
            "credentials": {"antminer_web_port": sim.http_port},
        }
    )
    collector = Collector(config)
    client = WsgiClient(app, token)
    collector.server = client
    collector.uploader.client = client
    try:
        asyncio.run(collector.discover())
        [info] = collector.infos.values()
        miner = Miner(
            serial="E2E-1",
            miner_key=info.miner_key,
            model_name="S19",
            nominal_ths=95.0,
            site_id=site.id,
            zone_id=zone.id,
            customer_id=acme.id,
            status="online",
        )
        dbsession.add(miner)
        dbsession.commit_now()

        async def poll_and_upload():
            await collector.poll_raw()
            assert await collector.uploader.drain(deadline_s=10)

        asyncio.run(poll_and_upload())

        # The customer asks; a reboot is high risk, so the hosting side must agree.
        customer = TestApp(app.app, extra_environ=dict(app.extra_environ))
        login(customer, engine, "customer", customer_id=acme.id)
        created = customer.post_json(
            "/api/v1/controlplane/commands",
            {
                "site_id": site.id,
                "command_type": "reboot",
                "target": {"miner_ids": [miner.id]},
                "reason": "stuck board",
            },
            headers=api_headers(customer),
        ).json
        assert created["status"] == "PENDING_APPROVAL"
        assert asyncio.run(collector.commands.poll_once()) == []  # nothing before approval
        approved = owner.post_json(
            f"/api/v1/controlplane/commands/{created['id']}/approve",
            {},
            headers=api_headers(owner),
        ).json
        assert approved["status"] == "APPROVED"

        # The collector trusts the server's public key (from its config in real life).
        public = owner.get("/api/v1/controlplane/signing-key").json
        raw = base64.b64decode(public["public_key"])
        collector.commands.keys = {wire_signing.key_id(raw): raw}
        assert public["key_id"] == wire_signing.key_id(raw)

        async def run_commands():
            tasks = await collector.commands.poll_once()
            return await asyncio.gather(*tasks)

        [ack] = asyncio.run(run_commands())
        assert ack["status"] == "completed", ack
        assert ack["after"]["uptime_s"] < ack["before"]["uptime_s"]

        detail = owner.get(f"/api/v1/controlplane/commands/{created['id']}").json
        assert detail["status"] == "COMPLETED"
        assert detail["targets"][0]["before"]["uptime_s"] == ack["before"]["uptime_s"]

        # Telemetry after the reboot confirms it.
        asyncio.run(poll_and_upload())
        run_in_request(registry, expire_commands)
        detail = owner.get(f"/api/v1/controlplane/commands/{created['id']}").json
        assert detail["targets"][0]["outcome"] == "confirmed", detail["targets"][0]
        assert detail["confirmed"] is True
    finally:
        collector.spool.close()

    with engine.connect() as conn:
        tags = [
            row[0]
            for row in conn.execute(
                sa.text(
                    "SELECT tag FROM core_audit_events WHERE subject_type = 'command' "
                    "AND subject_id = :id ORDER BY seq"
                ),
                {"id": str(created["id"])},
            )
        ]
    assert tags == [
        "controlplane:command:request",
        "controlplane:command:pending_approval",
        "controlplane:command:approve",
        "controlplane:command:approved",
        "controlplane:command:dispatched",
        "controlplane:command:deliver",
        "controlplane:command:ack",
        "controlplane:command:completed",
        "controlplane:command:confirmed",
    ]
    assert owner.get("/api/v1/audit/verify").json["ok"] is True
