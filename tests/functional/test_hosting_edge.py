"""The telemetry receiver: our collector's batches and the legacy HashInsight contract.

Every refusal is checked with its status *and* by counting rows before and after: a refused
batch leaves no telemetry, no miners and no candidates behind.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid

import pytest
import sqlalchemy as sa

from edge_collector.wire import MinerRecord, encode_gzip_json, telemetry_body
from tests.conftest import api_headers

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso(moment=None, naive=False) -> str:
    moment = moment or NOW
    if naive:
        return moment.replace(tzinfo=None).isoformat()
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def farm(dbsession):
    """Two sites; site A has zones A1 and A2, each with miners; a customer owns some."""
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Miner, Site, Zone

    acme = Customer(name="Acme")
    a, b = Site(name="Site A"), Site(name="Site B")
    dbsession.add_all([acme, a, b])
    dbsession.flush()
    a1, a2 = Zone(site_id=a.id, name="A1"), Zone(site_id=a.id, name="A2")
    b1 = Zone(site_id=b.id, name="B1")
    dbsession.add_all([a1, a2, b1])
    dbsession.flush()
    miners = {}
    for name, zone, customer in (
        ("M1", a1, acme),
        ("M2", a1, None),
        ("M3", a2, acme),
        ("M4", b1, None),
    ):
        miner = Miner(
            serial=f"SN{name}",
            mac=None,
            miner_key=f"key-{name}",
            model_name="S19",
            nominal_ths=95.0,
            site_id=zone.site_id,
            zone_id=zone.id,
            customer_id=customer.id if customer else None,
            status="installed",
        )
        dbsession.add(miner)
        miners[name] = miner
    dbsession.flush()
    dbsession.commit_now()
    return {"customer": acme, "sites": (a, b), "zones": (a1, a2, b1), "miners": miners}


@pytest.fixture
def device(webtest, engine, farm):
    """An edge device of zone A1, registered by an admin through the API; returns its token."""
    from tests.conftest import login

    login(webtest, engine, "admin")
    zone = farm["zones"][0]
    created = webtest.post_json(
        f"/api/v1/hosting/zones/{zone.id}/devices",
        {"name": "collector-1"},
        headers=api_headers(webtest),
        status=201,
    ).json
    webtest.reset()  # the device speaks without any session
    return created


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def counts(engine) -> dict:
    return {
        t: count(engine, t)
        for t in (
            "hosting_telemetry_raw",
            "hosting_telemetry_live",
            "hosting_miners",
            "hosting_discovery_candidates",
            "hosting_miner_history",
        )
    }


def record(key="key-M1", **overrides) -> dict:
    body = MinerRecord(
        miner_key=key,
        timestamp=iso(),
        online=True,
        vendor="antminer",
        model="Antminer S19",
        hashrate_ghs=95000.0,
        hashrate_avg_ghs=94000.0,
        fans_rpm=[6000, 6100, 0, 5900],
        temp_max_c=78.5,
        temp_avg_c=70.0,
        power_w=3250.0,
        accepted=1000,
        rejected=3,
        hardware_errors=7,
        uptime_s=3600,
        pool_url="stratum+tcp://pool.example:3333",
    ).to_wire()
    body["seq"] = overrides.pop("seq", 1)
    body.update(overrides)
    return body


def batch(records, *, batch_id=None, site_id="", zone_id="") -> tuple[dict, str]:
    batch_id = batch_id or str(uuid.uuid4())
    body = telemetry_body(
        batch_id=batch_id,
        device_id="edge-uid-1",
        site_id=site_id,
        zone_id=zone_id,
        stream="raw",
        records=records,
        seq_first=1,
        seq_last=len(records),
        dropped_total=0,
    )
    return body, batch_id


def post(webtest, token, body, *, key=None, raw=None, status="*", extra=None):
    data = raw if raw is not None else encode_gzip_json(body)
    headers = {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "User-Agent": "hashinsight-edge/1.2.3",
        "X-Edge-Device-ID": "edge-uid-1",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    headers.update(extra or {})
    return webtest.post("/api/v1/edge/telemetry", data, headers=headers, status=status)


# --- our collector ---------------------------------------------------------------------------


def test_a_batch_is_stored_once_and_the_device_is_seen(webtest, engine, farm, device):
    before = counts(engine)
    body, key = batch([record("key-M1", seq=1), record("key-M2", seq=2)])
    answer = post(webtest, device["token"], body, key=key, status=200).json
    assert (answer["accepted"], answer["rejected"], answer["duplicate"]) == (2, [], False)
    after = counts(engine)
    assert after["hosting_telemetry_raw"] == before["hosting_telemetry_raw"] + 2
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT hashrate_ths, hashrate_5s_ths, fans_failed, fan_min_rpm, online "
                "FROM hosting_telemetry_raw WHERE miner_id = :id"
            ),
            {"id": farm["miners"]["M1"].id},
        ).one()
        assert (row.hashrate_ths, row.hashrate_5s_ths) == (94.0, 95.0)  # GH/s -> TH/s
        assert (row.fans_failed, row.fan_min_rpm, bool(row.online)) == (1, 0, True)
        seen = conn.execute(
            sa.text("SELECT last_seen_at, version, edge_uid FROM hosting_edge_devices")
        ).one()
        status = conn.scalar(
            sa.text("SELECT status FROM hosting_miners WHERE id = :id"),
            {"id": farm["miners"]["M1"].id},
        )
    assert seen.last_seen_at is not None and seen.version == "hashinsight-edge/1.2.3"
    assert seen.edge_uid == "edge-uid-1"
    assert status == "online"  # an installed miner that reports is online, with history
    # The replay stores nothing and answers the original result.
    replay = post(webtest, device["token"], body, key=key, status=200).json
    assert replay["duplicate"] is True and replay["accepted"] == 2
    assert counts(engine) == after


def test_same_key_with_another_body_is_422_and_stores_nothing(webtest, engine, farm, device):
    body, key = batch([record("key-M1")])
    post(webtest, device["token"], body, key=key, status=200)
    before = counts(engine)
    other, _ = batch([record("key-M2")], batch_id=key)
    error = post(webtest, device["token"], other, key=key, status=422).json["error"]
    assert error["code"] == "idempotency_mismatch"
    assert counts(engine) == before


def test_bad_records_are_rejected_with_reasons_and_the_good_ones_stored(
    webtest, engine, farm, device
):
    records = [
        record("key-M1", seq=10),
        {**record("key-M2", seq=11), "colour": "red"},
        {**record("key-M2", seq=12), "temp_max_c": 900.0},
        {**record("key-M2", seq=13), "accepted": "lots"},
        {**record("key-M2", seq=14), "timestamp": "2001-01-01T00:00:00Z"},
        {**record("key-M3", seq=15)},  # zone A2: not this device's zone
        {**record("key-other", seq=16, serial="SNM4")},  # another site's miner, by serial
        record("key-M2", seq=17),
    ]
    body, key = batch(records)
    # NaN cannot be written by json.dumps(allow_nan=False): splice it into the text.
    text = json.dumps(body).replace('"temp_max_c": 78.5', '"temp_max_c": NaN', 1)
    assert text.index("NaN") < text.index('"seq": 11')  # the first record carries NaN
    before = counts(engine)
    answer = post(
        webtest, device["token"], None, key=key, raw=gzip.compress(text.encode()), status=200
    ).json
    reasons = {r["index"]: r["reason"] for r in answer["rejected"]}
    assert sorted(reasons) == [0, 1, 2, 3, 4, 5, 6]
    assert "temp_max_c: nan is not a finite number" in reasons[0]
    assert "unknown field 'colour'" in reasons[1]
    assert "temp_max_c" in reasons[2] and "accepted" in reasons[3]
    assert "clock" in reasons[4]
    assert reasons[5].startswith("foreign_zone") and reasons[6].startswith("foreign_zone")
    stored = counts(engine)["hosting_telemetry_raw"] - before["hosting_telemetry_raw"]
    assert stored == answer["accepted"] == 1
    with engine.connect() as conn:
        foreign = conn.scalar(
            sa.text("SELECT count(*) FROM hosting_telemetry_raw WHERE zone_id <> :zone"),
            {"zone": farm["zones"][0].id},
        )
    assert foreign == 0


def test_a_record_is_stored_the_same_whatever_its_batch_mates(webtest, engine, farm, device):
    """A clean batch is read in one pass, one with a bad record the long way (which names the
    bad record): the good records come out identical either way, including a whole number
    written as 1000.0, which only the long way converts."""
    earlier = iso(NOW - dt.timedelta(seconds=30))
    clean, key = batch([record("key-M1", seq=1, timestamp=earlier)])
    assert post(webtest, device["token"], clean, key=key, status=200).json["accepted"] == 1
    mixed, key = batch(
        [
            record("key-M1", seq=2),
            {**record("key-M2", seq=3), "colour": "red"},
            record("key-M2", seq=4, accepted=1000.0, fans_rpm=[6000.0, 0]),
        ]
    )
    answer = post(webtest, device["token"], mixed, key=key, status=200).json
    assert answer["accepted"] == 2 and [r["index"] for r in answer["rejected"]] == [1]
    columns = "miner_id, online, hashrate_ths, hashrate_5s_ths, nominal_ths, power_w, " + (
        "temp_max_c, temp_avg_c, fan_min_rpm, fans_total, fans_failed, boards_total, "
        "boards_ok, accepted, rejected, hw_errors, uptime_s, pool_url, error_class, "
        "site_id, zone_id, customer_id, device_id"
    )
    with engine.connect() as conn:
        polls = conn.execute(
            sa.text(
                f"SELECT {columns} FROM hosting_telemetry_raw "  # noqa: S608
                "WHERE miner_id = :id ORDER BY ts"
            ),
            {"id": farm["miners"]["M1"].id},
        ).all()
        m2 = conn.execute(
            sa.text(
                "SELECT accepted, fan_min_rpm, fans_total, fans_failed "
                "FROM hosting_telemetry_raw WHERE miner_id = :id"
            ),
            {"id": farm["miners"]["M2"].id},
        ).one()
    assert len(polls) == 2 and tuple(polls[0]) == tuple(polls[1])
    assert tuple(m2) == (1000, 0, 2, 1)


def test_a_batch_where_every_record_is_bad_is_422(webtest, engine, farm, device):
    before = counts(engine)
    body, key = batch([{**record("key-M1"), "online": "yes"}, record("key-M3")])
    answer = post(webtest, device["token"], body, key=key, status=422).json
    assert answer["error"]["code"] == "all_records_rejected"
    assert [d["index"] for d in answer["error"]["details"]] == [0, 1]
    assert counts(engine) == before
    # The outcome is remembered: the same batch again answers the same.
    again = post(webtest, device["token"], body, key=key, status=422).json
    assert again["duplicate"] is True


@pytest.mark.parametrize(
    ("case", "status"),
    [("no token", 401), ("wrong token", 401), ("user token", 401), ("revoked", 403)],
)
def test_credentials_are_checked(webtest, engine, farm, device, case, status):
    token = {"no token": None, "wrong token": "hie_" + "x" * 43, "revoked": device["token"]}
    if case == "revoked":
        from tests.conftest import login

        login(webtest, engine, "admin")
        webtest.post(f"/api/v1/hosting/devices/{device['id']}/revoke", headers=api_headers(webtest))
        webtest.reset()
    if case == "user token":
        token[case] = "hi_" + "y" * 43
    before = counts(engine)
    body, key = batch([record()])
    response = post(
        webtest, token[case], body, key=key, status=400 if case == "no token" else status
    )
    if case != "no token":
        assert response.json["error"]["code"] in ("unauthorized", "revoked")
    assert counts(engine) == before


def test_a_device_token_opens_no_user_route(webtest, farm, device):
    headers = {"Authorization": f"Bearer {device['token']}"}
    webtest.get("/api/v1/hosting/miners", headers=headers, status=401)
    webtest.get("/api/v1/hosting/sites", headers=headers, status=401)


def test_rotating_the_token_stops_the_old_one(webtest, engine, farm, device):
    from tests.conftest import login

    login(webtest, engine, "admin")
    rotated = webtest.post(
        f"/api/v1/hosting/devices/{device['id']}/rotate", headers=api_headers(webtest)
    ).json
    assert rotated["token"].startswith("hie_") and rotated["token"] != device["token"]
    listing = webtest.get("/api/v1/hosting/devices").json["items"][0]
    assert "token" not in listing and listing["token_prefix"] == rotated["token"][:10]
    webtest.reset()
    body, key = batch([record()])
    post(webtest, device["token"], body, key=key, status=401)
    post(webtest, rotated["token"], body, key=key, status=200)


def test_gzip_bomb_and_oversized_bodies_are_413(webtest, engine, farm, device):
    before = counts(engine)
    bomb = gzip.compress(b"[" + b" " * (80 * 1024 * 1024) + b"]")
    assert len(bomb) < 1024 * 1024  # small on the wire
    error = post(webtest, device["token"], None, raw=bomb, status=413).json["error"]
    assert error["code"] == "too_large"
    big = b"\x1f\x8b" + b"\x00" * (9 * 1024 * 1024)
    post(webtest, device["token"], None, raw=big, status=413)
    too_many, key = batch([record(seq=i) for i in range(5001)])
    assert post(webtest, device["token"], too_many, key=key, status=413).json["error"]["code"]
    post(webtest, device["token"], None, raw=b"\x1f\x8b\x08garbage", status=400)
    post(webtest, device["token"], None, raw=gzip.compress(b"{not json"), status=400)
    assert counts(engine) == before


def test_a_device_naming_another_site_is_refused(webtest, engine, farm, device):
    before = counts(engine)
    body, key = batch([record()], site_id="Site B")
    assert post(webtest, device["token"], body, key=key, status=403).json["error"]["code"] == (
        "site_mismatch"
    )
    body, key = batch([record()], site_id="Site A", zone_id=str(farm["zones"][0].id))
    post(webtest, device["token"], body, key=key, status=200)
    assert counts(engine)["hosting_telemetry_raw"] == before["hosting_telemetry_raw"] + 1


def test_unknown_miners_become_candidates_and_can_be_adopted(webtest, engine, farm, device):
    before = counts(engine)
    body, key = batch([record("key-new", serial="NEW001", seq=1)])
    answer = post(webtest, device["token"], body, key=key, status=200).json
    assert (answer["accepted"], answer["candidates"]) == (0, 1)
    after = counts(engine)
    assert after["hosting_telemetry_raw"] == before["hosting_telemetry_raw"]
    assert after["hosting_discovery_candidates"] == 1
    from tests.conftest import login

    login(webtest, engine, "operator")
    candidates = webtest.get("/api/v1/hosting/discovery").json["items"]
    assert [c["serial"] for c in candidates] == ["NEW001"]
    miner = webtest.post_json(
        f"/api/v1/hosting/discovery/{candidates[0]['id']}/adopt",
        {"customer_id": farm["customer"].id},
        headers=api_headers(webtest),
        status=201,
    ).json
    assert (miner["serial"], miner["miner_key"], miner["zone_id"]) == (
        "NEW001",
        "key-new",
        farm["zones"][0].id,
    )
    webtest.reset()
    body, key = batch([record("key-new", serial="NEW001", seq=2)])
    assert post(webtest, device["token"], body, key=key, status=200).json["accepted"] == 1


def test_auto_adopt_puts_unknown_miners_in_unassigned(make_app, engine, farm):
    from tests.conftest import login

    app, _registry = make_app(**{"hosting.auto_adopt": "true"})
    login(app, engine, "admin")
    token = app.post_json(
        f"/api/v1/hosting/zones/{farm['zones'][0].id}/devices",
        {"name": "auto"},
        headers=api_headers(app),
    ).json["token"]
    app.reset()
    body, key = batch([record("key-auto", serial="AUTO1", mac="AA-BB-CC-00-11-22")])
    answer = post(app, token, body, key=key, status=200).json
    assert (answer["accepted"], answer["adopted"]) == (1, 1)
    with engine.connect() as conn:
        miner = conn.execute(
            sa.text("SELECT status, serial, mac, zone_id FROM hosting_miners WHERE serial='AUTO1'")
        ).one()
    assert (miner.status, miner.mac, miner.zone_id) == (
        "unassigned",
        "aa:bb:cc:00:11:22",
        farm["zones"][0].id,
    )


def test_the_rate_quota_answers_429_with_retry_after(make_app, engine, farm):
    from tests.conftest import login

    app, _registry = make_app(**{"hosting.edge.rate_limit": "2/minute"})
    login(app, engine, "admin")
    token = app.post_json(
        f"/api/v1/hosting/zones/{farm['zones'][0].id}/devices",
        {"name": "quota"},
        headers=api_headers(app),
    ).json["token"]
    app.reset()
    for seq in (1, 2):
        body, key = batch([record(seq=seq, timestamp=iso(NOW - dt.timedelta(seconds=seq)))])
        post(app, token, body, key=key, status=200)
    before = counts(engine)
    body, key = batch([record(seq=3)])
    response = post(app, token, body, key=key, status=429)
    assert int(response.headers["Retry-After"]) >= 1
    assert counts(engine) == before


def test_the_collector_uploads_to_the_real_receiver(webtest, engine, farm, device):
    """edge_collector's own Uploader, pointed at the app through WebTest's WSGI stack."""
    from edge_collector.uploader import Response, ServerClient

    class WsgiClient(ServerClient):
        def request(self, method, path, body=None, *, gzip_body=False, headers=None):
            response = post(webtest, self.token, body, key=(headers or {}).get("Idempotency-Key"))
            return Response(response.status_int, response.json)

    client = WsgiClient("http://localhost", device["token"], device_id="edge-uid-1")
    body, key = batch([record("key-M2")])
    response = client.request(
        "POST", "/api/v1/edge/telemetry", body, gzip_body=True, headers={"Idempotency-Key": key}
    )
    assert response.status == 200 and response.body["accepted"] == 1


# --- the legacy HashInsight collector ------------------------------------------------------------


def legacy_record(miner_id="SNM1", **overrides) -> dict:
    body = {
        "miner_id": miner_id,
        "timestamp": iso(naive=True),
        "online": True,
        "miner_key": "",
        "hashrate_ghs": 93500.0,
        "hashrate_5s_ghs": 95100.0,
        "temperature_avg": 66.0,
        "temperature_max": 79.0,
        "temperature_chips": [75.0, 79.0, 77.5],
        "fan_speeds": [6000, 6120],
        "frequency_avg": 650.0,
        "accepted_shares": 12000,
        "rejected_shares": 12,
        "hardware_errors": 3,
        "uptime_seconds": 86400,
        "power_consumption": 3240.0,
        "efficiency": 34.6,
        "pool_url": "stratum+tcp://pool.example:3333",
        "worker_name": "acme.001",
        "firmware_version": "2023.04",
        "error_type": None,
        "error_message": None,
    }
    body.update(overrides)
    return body


def legacy_headers(token, farm, **extra) -> dict:
    headers = {
        "X-Collector-Key": token,
        "Authorization": f"Bearer {token}",
        "X-Site-ID": str(farm["sites"][0].id),
        "X-Device-ID": "legacy-7",
        "X-Zone-ID": str(farm["zones"][0].id),
        "X-Upload-Mode": "raw",
        "Content-Encoding": "gzip",
        "Content-Type": "application/octet-stream",
    }
    headers.update(extra)
    return headers


def test_legacy_upload_is_accepted_exactly_as_sent(webtest, engine, farm, device):
    before = counts(engine)
    records = [legacy_record("SNM1"), legacy_record(str(farm["miners"]["M2"].id))]
    data = gzip.compress(json.dumps(records).encode())
    answer = webtest.post(
        "/api/collector/upload", data, headers=legacy_headers(device["token"], farm), status=200
    ).json
    assert answer["success"] is True and answer["processed"] == 2
    assert counts(engine)["hosting_telemetry_raw"] == before["hosting_telemetry_raw"] + 2
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT hashrate_ths, hashrate_5s_ths, power_w, temp_max_c, accepted, uptime_s "
                "FROM hosting_telemetry_raw WHERE miner_id = :id"
            ),
            {"id": farm["miners"]["M1"].id},
        ).one()
    assert tuple(row) == (93.5, 95.1, 3240.0, 79.0, 12000, 86400)


def test_legacy_latest_mode_is_accepted_and_a_bad_mode_is_400(webtest, engine, farm, device):
    data = gzip.compress(json.dumps([legacy_record("SNM2")]).encode())
    headers = legacy_headers(device["token"], farm, **{"X-Upload-Mode": "latest"})
    assert webtest.post("/api/collector/upload", data, headers=headers).json["success"] is True
    headers["X-Upload-Mode"] = "sometimes"
    answer = webtest.post("/api/collector/upload", data, headers=headers, status=400).json
    assert answer["success"] is False


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"X-Collector-Key": "hie_wrong", "Authorization": "Bearer hie_wrong"}, 401),
        ({"X-Site-ID": "999999"}, 403),
        ({"X-Zone-ID": "999999"}, 403),
    ],
)
def test_legacy_upload_refuses_bad_credentials(webtest, engine, farm, device, change, status):
    before = counts(engine)
    data = gzip.compress(json.dumps([legacy_record()]).encode())
    answer = webtest.post(
        "/api/collector/upload",
        data,
        headers=legacy_headers(device["token"], farm, **change),
        status=status,
    ).json
    assert answer["success"] is False and answer["error"]
    assert counts(engine) == before


def test_legacy_records_for_a_foreign_zone_are_never_stored(webtest, engine, farm, device):
    before = counts(engine)
    data = gzip.compress(json.dumps([legacy_record("SNM3"), legacy_record("SNM4")]).encode())
    answer = webtest.post(
        "/api/collector/upload", data, headers=legacy_headers(device["token"], farm), status=422
    ).json
    assert answer["success"] is False
    assert all(r["reason"].startswith("foreign_zone") for r in answer["rejected"])
    assert counts(engine) == before


def test_legacy_envelope_batch_and_its_replay(webtest, engine, farm, device):
    envelope = {
        "schema": "telemetry_envelope.v1",
        "site_id": str(farm["sites"][0].id),
        "zone_id": str(farm["zones"][0].id),
        "device_id": "legacy-7",
        "sent_at": iso(),
        "mode": "raw",
        "record_count": 2,
        "source_seq_start": 100,
        "source_seq_end": 101,
        "compression": "gzip",
        "records": [legacy_record("SNM1"), legacy_record("unknown-miner")],
    }
    data = gzip.compress(json.dumps(envelope).encode())
    headers = legacy_headers(device["token"], farm)
    before = counts(engine)
    answer = webtest.post("/api/edge/v1/telemetry/batch", data, headers=headers).json
    assert answer["success"] is True and answer["processed"] == 1 and answer["candidates"] == 1
    after = counts(engine)
    assert after["hosting_telemetry_raw"] == before["hosting_telemetry_raw"] + 1
    again = webtest.post("/api/edge/v1/telemetry/batch", data, headers=headers).json
    assert again["duplicate"] is True
    assert counts(engine)["hosting_telemetry_raw"] == after["hosting_telemetry_raw"]
    bad = {**envelope, "record_count": 5}
    webtest.post(
        "/api/edge/v1/telemetry/batch",
        gzip.compress(json.dumps(bad).encode()),
        headers=headers,
        status=422,
    )
