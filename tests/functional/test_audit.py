"""The audit chain on a real database: appends in the caller's transaction, no forks under
concurrency, tamper detection on 10,000 events, checkpoints, the page, the CSV and the API."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import functools
import io
import json
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from hashinsight_core.audit import chain, service
from hashinsight_core.audit.keys import AuditKeys
from hashinsight_core.db import make_engine
from hashinsight_core.tasks import run_in_request
from tests.conftest import PG_URL, api_headers, make_user, unavailable

KEY = chain.generate_private_key()
KEY_TEXT = chain.private_key_text(KEY)
PUBLIC = chain.public_key_bytes(KEY)
ORIGIN = "hashinsight.local/audit"
KEYS = AuditKeys(origin=ORIGIN, private_key=KEY, source="test", trusted=(PUBLIC,))
N = 10_000
CHECKPOINT_EVERY = 1_000
T0 = dt.datetime(2026, 5, 1, 8, 0, 0, 250_000)
TAGS = ["core:user:login", "core:user:update", "hosting:miner:update", "crm:customer:create"]

events_table = service.events
head_table = service.head
checkpoint_table = service.checkpoints


# --- building a chain quickly (the service is exercised separately) ----------------------


def build_chain(n: int, edit: int | None = None) -> list[dict]:
    """``n`` events as rows; ``edit`` changes that event's payload before hashing onwards
    (what someone re-hashing the chain after an edit would produce)."""
    rows, prev = [], chain.GENESIS_HASH
    for seq in range(1, n + 1):
        payload = {"ip": f"10.0.{seq % 250}.{seq % 200}", "n": seq, "名前": '测试 "quoted"'}
        if seq == edit:
            payload["n"] = -1
        event = chain.make_event(
            seq,
            prev,
            T0 + dt.timedelta(seconds=seq, microseconds=seq),
            TAGS[seq % len(TAGS)],
            ("user", seq % 13) if seq % 5 else ("device", f"edge-{seq % 3}"),
            ("miner", seq % 97) if seq % 2 else ("user", seq % 13),
            payload,
        )
        rows.append({name: getattr(event, name) for name in event.__slots__})
        prev = event.hash
    return rows


@functools.cache
def ten_thousand() -> tuple[dict, ...]:
    return tuple(build_chain(N))


def signed_note(rows, size: int, key=KEY) -> str:
    when = dt.datetime(2026, 5, 2, tzinfo=dt.UTC) + dt.timedelta(minutes=size)
    return chain.sign_checkpoint(key, ORIGIN, size, rows[size - 1]["hash"], when).note


def checkpoint_row(note: str) -> dict:
    checkpoint = chain.read_checkpoint(note)
    return {
        "tree_size": checkpoint.size,
        "head_hash": checkpoint.head_hash,
        "signed_at": checkpoint.time.replace(tzinfo=None),
        "origin": checkpoint.origin,
        "key_id": chain.key_id(ORIGIN, PUBLIC).hex(),
        "note": note,
    }


def load(engine, rows, checkpoints_every: int | None = CHECKPOINT_EVERY) -> None:
    """Store ``rows`` as the chain, the head row, and a signed checkpoint every so often."""
    with engine.begin() as conn:
        conn.execute(events_table.delete())
        conn.execute(head_table.delete())
        conn.execute(checkpoint_table.delete())
        for start in range(0, len(rows), 5_000):
            conn.execute(events_table.insert(), list(rows[start : start + 5_000]))
        last = rows[-1] if rows else {"seq": 0, "hash": chain.GENESIS_HASH}
        conn.execute(head_table.insert().values(id=1, seq=last["seq"], hash=last["hash"]))
        if checkpoints_every:
            notes = [
                checkpoint_row(signed_note(rows, size))
                for size in range(checkpoints_every, len(rows) + 1, checkpoints_every)
            ]
            conn.execute(checkpoint_table.insert(), notes)


def head_seq(engine) -> int:
    """The newest seq (logging in may itself be audited, so tests do not assume N)."""
    with engine.connect() as conn:
        return service.head_of(conn)[0]


def verify(engine, external=(), keys=KEYS) -> chain.VerifyResult:
    with engine.connect() as conn:
        return service.verify(conn, keys, external)


def execute(engine, sql: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)


@pytest.fixture
def chain_10k(engine):
    rows = ten_thousand()
    load(engine, rows)
    return rows


# --- tamper tests on 10,000 events -------------------------------------------------------


def test_untouched_chain_of_10000_verifies_against_its_newest_checkpoint(engine, chain_10k):
    result = verify(engine)
    assert result.ok, result.problem
    assert (result.events, result.head_seq, result.head_hash) == (N, N, chain_10k[-1]["hash"])
    assert result.checkpoint.size == N and result.notes == []


FIELD_CHANGES = {
    "occurred_at": ":value",
    "actor_type": "'system'",
    "actor_id": "actor_id || 'x'",
    "tag": "'core:user:delete'",
    "subject_type": "'site'",
    "subject_id": "subject_id || '0'",
    "payload": "replace(payload, '\"n\"\\:5000', '\"n\"\\:5001')",  # \\: is a colon
    "prev_hash": "'" + "e" * 64 + "'",
    "hash": "'" + "d" * 64 + "'",
}


@pytest.mark.parametrize("field", sorted(FIELD_CHANGES))
def test_a_changed_field_is_reported_at_its_seq(engine, chain_10k, field):
    value = chain_10k[4999]["occurred_at"] + dt.timedelta(microseconds=1)
    execute(
        engine,
        f"UPDATE core_audit_events SET {field} = {FIELD_CHANGES[field]} WHERE seq = 5000",
        **({"value": value} if field == "occurred_at" else {}),
    )
    result = verify(engine)
    assert not result.ok
    assert (result.problem.code, result.problem.seq) == (chain.CHANGED, 5000)


def test_a_deleted_middle_event_is_reported(engine, chain_10k):
    execute(engine, "DELETE FROM core_audit_events WHERE seq = 4321")
    result = verify(engine)
    assert (result.problem.code, result.problem.seq) == (chain.GAP, 4321)
    assert "event 4321 is missing" in result.problem.message


@pytest.mark.parametrize("deleted", [1, 5, 100])
def test_deleted_newest_events_are_caught_by_the_checkpoint(engine, chain_10k, deleted):
    # A careful intruder also winds the head row back; the signed checkpoint still knows.
    keep = N - deleted
    execute(engine, "DELETE FROM core_audit_events WHERE seq > :keep", keep=keep)
    execute(
        engine,
        "UPDATE core_audit_head SET seq = :keep, hash = :hash",
        keep=keep,
        hash=chain_10k[keep - 1]["hash"],
    )
    result = verify(engine)
    assert (result.problem.code, result.problem.seq) == (chain.TRUNCATED, keep + 1)
    assert f"size {N}" in result.problem.message


def test_deleted_newest_events_with_the_head_row_left_alone(engine, chain_10k):
    execute(engine, "DELETE FROM core_audit_checkpoints")
    execute(engine, "DELETE FROM core_audit_events WHERE seq > 9990")
    result = verify(engine)
    assert (result.problem.code, result.problem.seq) == (chain.TRUNCATED, 9991)
    assert "chain head records 10000" in result.problem.message


def test_without_any_checkpoint_a_tidy_truncation_is_not_detectable(engine, chain_10k):
    """The documented limitation of a bare hash chain (docs/audit.md): say so, honestly."""
    execute(engine, "DELETE FROM core_audit_checkpoints")
    execute(engine, "DELETE FROM core_audit_events WHERE seq > 9900")
    execute(engine, "UPDATE core_audit_head SET seq = 9900, hash = :h", h=chain_10k[9899]["hash"])
    result = verify(engine)
    assert result.ok and result.events == 9900
    assert any("no checkpoint yet" in note for note in result.notes)


def test_swapped_events_are_reported(engine, chain_10k):
    # Exchange the two rows' contents, keeping each sequence number where it was.
    columns = [c for c in chain.Event.__slots__ if c != "seq"]
    with engine.begin() as conn:
        a = dict(
            conn.execute(sa.select(events_table).where(events_table.c.seq == 3000)).one()._mapping
        )
        b = dict(
            conn.execute(sa.select(events_table).where(events_table.c.seq == 7000)).one()._mapping
        )
        conn.execute(events_table.delete().where(events_table.c.seq.in_([3000, 7000])))
        conn.execute(
            events_table.insert(),
            [
                {**{c: b[c] for c in columns}, "seq": 3000},
                {**{c: a[c] for c in columns}, "seq": 7000},
            ],
        )
    result = verify(engine)
    assert (result.problem.code, result.problem.seq) == (chain.CHANGED, 3000)


def test_whole_chain_rehashed_without_the_key_is_caught(engine, chain_10k):
    rewritten = build_chain(N, edit=17)
    assert chain.verify_events(chain.Event(**r) for r in rewritten).ok
    with engine.begin() as conn:
        conn.execute(events_table.delete())
        conn.execute(events_table.insert(), rewritten)
        conn.execute(head_table.update().values(seq=N, hash=rewritten[-1]["hash"]))
    result = verify(engine)
    assert (result.problem.code, result.problem.seq) == (chain.CHECKPOINT_MISMATCH, 1000)
    assert "events 1 to 1000" in result.problem.message


def test_rehashed_chain_with_forged_checkpoints_is_caught(engine, chain_10k):
    """Re-signing with a key of one's own does not help: it is not a trusted key."""
    rewritten = build_chain(N, edit=17)
    forger = chain.generate_private_key()
    load(engine, rewritten, checkpoints_every=None)
    with engine.begin() as conn:
        conn.execute(
            checkpoint_table.insert(),
            [checkpoint_row(signed_note(rewritten, s, forger)) for s in (5000, N)],
        )
    result = verify(engine)
    assert result.problem.code == chain.BAD_CHECKPOINT
    assert "not signed by a trusted key" in result.problem.message


def test_an_altered_older_checkpoint_is_reported_as_such(engine, chain_10k):
    note = signed_note(chain_10k, 3000)
    forged = note.replace(
        base64.b64encode(bytes.fromhex(chain_10k[2999]["hash"])).decode(),
        base64.b64encode(bytes(32)).decode(),
    )
    execute(engine, "UPDATE core_audit_checkpoints SET note = :n WHERE tree_size = 3000", n=forged)
    result = verify(engine)
    assert result.problem.code == chain.BAD_CHECKPOINT and "size 3000" in result.problem.message


def test_restored_older_copy_is_caught_by_an_exported_checkpoint(engine, chain_10k, tmp_path):
    exported = tmp_path / "checkpoint.txt"
    exported.write_text(signed_note(chain_10k, N))
    # The restored copy is consistent in itself: older events, older head, older checkpoints.
    older = list(chain_10k[:9000])
    load(engine, older)
    assert verify(engine).ok  # the database alone cannot tell
    external = [(exported.read_text(), str(exported))]
    result = verify(engine, external)
    assert (result.problem.code, result.problem.seq) == (chain.TRUNCATED, 9001)
    assert str(exported) in result.problem.message

    # Life goes on after the restore: the chain grows past the checkpoint, differently.
    with engine.begin() as conn:
        for i in range(1_200):
            service.append(conn, "core:user:login", actor=("user", i), payload={"i": i})
    result = verify(engine, external)
    assert (result.problem.code, result.problem.seq) == (chain.CHECKPOINT_MISMATCH, N)


def test_external_checkpoints_must_be_ours(engine, chain_10k):
    stranger = chain.generate_private_key()
    foreign = [(signed_note(chain_10k, 500, stranger), "foreign.txt")]
    assert verify(engine, foreign).problem.code == chain.BAD_CHECKPOINT
    other_log = chain.sign_checkpoint(
        KEY, "elsewhere.example/audit", 5, chain_10k[4]["hash"], dt.datetime.now(dt.UTC)
    ).note
    result = verify(engine, [(other_log, "other.txt")])
    assert result.problem.code == chain.BAD_CHECKPOINT and "elsewhere" in result.problem.message


# --- the service ------------------------------------------------------------------------


def test_append_links_and_the_head_follows(engine):
    with engine.begin() as conn:
        first = service.append(conn, "core:user:login", actor=("user", 3), subject=("user", 3))
        second = service.append(conn, "core:user:logout", payload={"why": "timeout"})
    with engine.connect() as conn:
        stored = conn.execute(sa.select(events_table).order_by(events_table.c.seq)).all()
        assert service.head_of(conn) == (2, second.hash)
    assert [r.seq for r in stored] == [1, 2]
    assert stored[1].prev_hash == first.hash and stored[0].prev_hash == chain.GENESIS_HASH
    assert (stored[0].actor_type, stored[0].actor_id, stored[1].actor_type) == (
        "user",
        "3",
        "system",
    )
    assert stored[1].payload == '{"why":"timeout"}'
    assert verify(engine).ok


def test_append_rebuilds_a_missing_head_row(engine, chain_10k):
    execute(engine, "DELETE FROM core_audit_head")
    with engine.begin() as conn:
        appended = service.append(conn, "core:user:login")
    assert appended.seq == N + 1
    assert verify(engine).ok


def test_bad_events_are_refused_before_anything_is_written(engine):
    with engine.begin() as conn:
        for bad in (
            {"tag": "Login"},
            {"tag": "core:user:login", "actor": ("robot", 1)},
            {"tag": "core:user:login", "payload": {"x": float("nan")}},
            {"tag": "core:user:login", "subject": ("", "7")},
        ):
            with pytest.raises(chain.AuditError):
                service.append(conn, **bad)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(events_table)) == 0


def test_the_database_refuses_a_fork(engine):
    """The safety net under the lock: two events can never share a seq or a prev_hash."""
    with engine.begin() as conn:
        service.append(conn, "core:user:login")
    row = build_chain(1)[0]
    for clash in ({**row, "prev_hash": "1" * 64}, {**row, "seq": 2}):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(events_table.insert().values(**clash))


def test_request_audit_commits_and_rolls_back_with_the_change(registry, engine):
    from hashinsight_core.models import User

    email, _ = make_user(engine, "admin")

    def change(request, fail: bool):
        user = request.dbsession.scalar(sa.select(User).where(User.email == email))
        user.name = "Changed"
        request.user = user  # as if logged in
        request.audit("core:user:update", subject=("user", user.id), payload={"name": "Changed"})
        if fail:
            raise RuntimeError("the change fails after the audit call")

    with pytest.raises(RuntimeError):
        run_in_request(registry, change, True)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(events_table)) == 0
    run_in_request(registry, change, False)
    with engine.connect() as conn:
        event = conn.execute(sa.select(events_table)).one()
        user_id = conn.scalar(sa.select(User.id).where(User.email == email))
    assert (event.actor_type, event.actor_id, event.tag) == (
        "user",
        str(user_id),
        "core:user:update",
    )
    assert (event.subject_type, event.subject_id) == ("user", str(user_id))
    run_in_request(registry, lambda r: r.audit("hosting:site:create", actor=("device", "edge-1")))
    run_in_request(registry, lambda r: r.audit("core:task:run"))
    with engine.connect() as conn:
        actors = conn.execute(sa.select(events_table.c.actor_type).order_by("seq")).scalars()
        assert list(actors) == ["user", "device", "system"]


# --- concurrency: one chain, never a fork ------------------------------------------------


def connect(engine, patience: float = 60.0):
    """A connection, waiting while the server is full (other test runs may share it)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return engine.connect()
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def hammer(engine, threads: int, each: int) -> None:
    """``threads`` appenders, each on its own database session, all starting together."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with connect(engine) as connection:
                barrier.wait()
                for i in range(each):
                    with sa.orm.Session(bind=connection) as session, session.begin():
                        service.append(
                            session,
                            "core:test:append",
                            actor=("system", f"worker-{worker}"),
                            payload={"worker": worker, "i": i},
                        )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            barrier.abort()

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []


def assert_one_contiguous_chain(engine, expected: int, threads: int, each: int) -> None:
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(events_table.c.seq, events_table.c.prev_hash, events_table.c.payload)
        ).all()
        head = service.head_of(conn)
    assert sorted(r.seq for r in stored) == list(range(1, expected + 1))
    assert len({r.prev_hash for r in stored}) == expected  # no two events follow the same one
    assert head[0] == expected
    appended = {tuple(sorted(json.loads(r.payload).items())) for r in stored}
    assert appended == {(("i", i), ("worker", w)) for w in range(threads) for i in range(each)}
    result = verify(engine, keys=AuditKeys(origin=ORIGIN))
    assert result.ok and result.events == expected and result.head_hash == head[1]


@pytest.fixture
def fresh_pg_url():
    """A PostgreSQL schema of our own (whatever backend the suite runs on), core tables only."""
    from hashinsight_core import migrate

    schema = f"test_audit_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        unavailable("PostgreSQL", str(error).splitlines()[0])
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url, [])
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_50_concurrent_appenders_on_postgresql_leave_one_unforked_chain(fresh_pg_url):
    threads, each = 50, 20
    # One connection per appender, all open at once: real concurrency on the head row.
    engine = make_engine(fresh_pg_url, pool_size=threads, max_overflow=0, pool_timeout=120)
    try:
        hammer(engine, threads, each)
        assert_one_contiguous_chain(engine, threads * each, threads, each)
    finally:
        engine.dispose()


def test_concurrent_appenders_on_sqlite_leave_one_unforked_chain(tmp_path):
    from hashinsight_core import migrate

    url = f"sqlite:///{tmp_path / 'threads.sqlite'}"
    migrate.upgrade(url, [])
    engine = make_engine(url)
    try:
        hammer(engine, 10, 25)
        assert_one_contiguous_chain(engine, 250, 10, 25)
    finally:
        engine.dispose()


# --- checkpoints ------------------------------------------------------------------------


def test_checkpoint_is_signed_once_per_head_and_exported(engine, tmp_path):
    with engine.begin() as conn:
        assert service.make_checkpoint(conn, KEYS) == (None, False)  # empty: nothing to sign
        for i in range(3):
            service.append(conn, "core:user:login", payload={"i": i})
    with engine.begin() as conn:
        first, created = service.make_checkpoint(conn, KEYS, export_dir=tmp_path)
    assert created and first.size == 3
    with engine.begin() as conn:
        again, created = service.make_checkpoint(conn, KEYS, export_dir=tmp_path)
    assert not created and again.size == 3  # idempotent: no new event, no new row
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-000000000003.txt"]
    assert service.newest_exported(tmp_path) == first.note
    chain.parse_checkpoint(first.note, [PUBLIC])
    with engine.begin() as conn:
        service.append(conn, "core:user:logout")
        newer, created = service.make_checkpoint(conn, KEYS, export_dir=tmp_path)
    assert created and newer.size == 4
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(checkpoint_table)) == 2


def test_a_broken_chain_is_never_signed(engine, chain_10k):
    with engine.begin() as conn:
        service.append(conn, "core:user:login")
    execute(engine, "UPDATE core_audit_events SET tag = 'core:user:delete' WHERE seq = 10001")
    with pytest.raises(service.ChainBroken, match="event 10001"), engine.begin() as conn:
        service.make_checkpoint(conn, KEYS)
    execute(engine, "DELETE FROM core_audit_events WHERE seq > 9999")
    with pytest.raises(service.ChainBroken, match="no longer matches"), engine.begin() as conn:
        service.make_checkpoint(conn, KEYS)


def test_checkpoint_after_new_events_verifies_only_the_new_ones_against_the_old(engine, chain_10k):
    with engine.begin() as conn:
        service.append(conn, "core:user:login")
    execute(engine, "UPDATE core_audit_events SET tag = 'core:user:delete' WHERE seq = 10")
    # Event 10 is behind the signed checkpoint of size 10000 (verify finds it); signing the
    # next checkpoint only needs the events since then to follow that signed head.
    with engine.begin() as conn:
        checkpoint, created = service.make_checkpoint(conn, KEYS)
    assert created and checkpoint.size == N + 1
    assert verify(engine).problem.seq == 10


def test_without_a_key_checkpoints_are_off(engine):
    with pytest.raises(service.CheckpointsOff), engine.begin() as conn:
        service.make_checkpoint(conn, AuditKeys(origin=ORIGIN))


def test_periodic_task_signs_when_the_head_moved(make_app, engine, tmp_path):
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY_TEXT)
    key_file.chmod(0o600)
    _, registry = make_app(
        plugins=[],
        audit__signing_key_file=str(key_file),
        audit__checkpoint_dir=str(tmp_path / "exported"),
    )
    task = registry["periodic_tasks"]["core.audit_checkpoint"]
    task.call_local()
    run_in_request(registry, lambda r: r.audit("core:user:login"))
    task.call_local()
    task.call_local()
    with engine.connect() as conn:
        sizes = conn.execute(sa.select(checkpoint_table.c.tree_size)).scalars().all()
    assert sizes == [1]
    assert len(list((tmp_path / "exported").iterdir())) == 1


# --- web: API, page, CSV -----------------------------------------------------------------


@pytest.fixture
def signing_app(make_app, tmp_path):
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY_TEXT)
    key_file.chmod(0o600)
    return make_app(audit__signing_key_file=str(key_file))


def login(app, engine, role):
    from tests.conftest import login as log_in

    return log_in(app, engine, role)


def test_verify_api_needs_owner_or_admin(webtest, engine, chain_10k):
    assert webtest.get("/api/v1/audit/verify", status=401).json["error"]["code"]
    login(webtest, engine, "operator")
    webtest.get("/api/v1/audit/verify", status=403)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_verify_api_reports_ok_then_the_first_bad_seq(webtest, engine, chain_10k, role):
    login(webtest, engine, role)
    body = webtest.get("/api/v1/audit/verify").json
    assert body["ok"] is True and body["problem"] is None
    assert body["events"] == head_seq(engine) >= N and body["checkpoint"]["size"] == N
    execute(engine, "UPDATE core_audit_events SET actor_id = '666' WHERE seq = 777")
    body = webtest.get("/api/v1/audit/verify").json
    assert body["ok"] is False
    assert body["problem"]["first_bad_seq"] == 777 and body["problem"]["code"] == "changed"


def test_verify_uses_the_newest_exported_checkpoint(make_app, engine, chain_10k, tmp_path):
    service.export(chain.read_checkpoint(signed_note(chain_10k, N)), tmp_path)
    app, _ = make_app(
        audit__public_keys=base64.b64encode(PUBLIC).decode(), audit__checkpoint_dir=str(tmp_path)
    )
    login(app, engine, "owner")
    load(engine, list(chain_10k[:9500]))  # an older copy comes back
    body = app.get("/api/v1/audit/verify").json
    assert body["problem"]["code"] == "truncated" and body["problem"]["first_bad_seq"] == 9501


def test_one_verification_at_a_time(webtest, engine, chain_10k):
    from hashinsight_core.audit import views

    login(webtest, engine, "owner")
    views._verifying.acquire()
    try:
        response = webtest.get("/api/v1/audit/verify", status=429)
        assert response.headers["Retry-After"] == "10"
    finally:
        views._verifying.release()
    webtest.get("/api/v1/audit/verify", status=200)


def test_checkpoint_api_is_for_owners_and_needs_a_key(webtest, signing_app, engine):
    with engine.begin() as conn:
        service.append(conn, "core:user:login")
    login(webtest, engine, "owner")
    response = webtest.post("/api/v1/audit/checkpoints", headers=api_headers(webtest), status=503)
    assert "no signing key" in response.json["error"]["message"]

    app, _ = signing_app
    login(app, engine, "admin")
    app.post("/api/v1/audit/checkpoints", headers=api_headers(app), status=403)
    app.reset()
    login(app, engine, "owner")
    app.post("/api/v1/audit/checkpoints", status=400)  # no CSRF token
    created = app.post("/api/v1/audit/checkpoints", headers=api_headers(app), status=201).json
    assert created["created"] is True and created["checkpoint"]["size"] == head_seq(engine)
    again = app.post("/api/v1/audit/checkpoints", headers=api_headers(app), status=200).json
    assert again["created"] is False
    note = app.get("/api/v1/audit/checkpoints/latest")
    assert note.content_type == "text/plain" and note.text == created["checkpoint"]["note"]
    assert chain.parse_checkpoint(note.text, [PUBLIC]).size == head_seq(engine)
    listed = app.get("/api/v1/audit/checkpoints").json
    assert (
        listed["total"] == 1 and listed["items"][0]["key_id"] == chain.key_id(ORIGIN, PUBLIC).hex()
    )

    with engine.begin() as conn:
        seq = service.append(conn, "core:user:logout").seq
    execute(engine, "UPDATE core_audit_events SET payload = '{\"x\"\\:1}' WHERE seq = :s", s=seq)
    refused = app.post("/api/v1/audit/checkpoints", headers=api_headers(app), status=409)
    # The same words as the verify page, in the reader's language.
    assert refused.json["error"]["message"] == f"Event {seq} was changed after it was recorded."


def test_latest_checkpoint_is_404_before_the_first(webtest, engine):
    login(webtest, engine, "admin")
    webtest.get("/api/v1/audit/checkpoints/latest", status=404)


def test_events_api_filters_and_pages(webtest, engine, chain_10k):
    login(webtest, engine, "admin")
    page = webtest.get("/api/v1/audit/events", {"limit": 3}).json
    assert page["total"] == head_seq(engine) >= N
    assert [e["seq"] for e in page["items"]] == [page["total"] - i for i in range(3)]
    device = webtest.get(
        "/api/v1/audit/events", {"actor_type": "device", "actor_id": "edge-1", "limit": 200}
    ).json
    assert device["total"] == sum(
        1 for r in chain_10k if r["actor_type"] == "device" and r["actor_id"] == "edge-1"
    )
    assert all(e["actor_id"] == "edge-1" for e in device["items"])
    hosting = webtest.get("/api/v1/audit/events", {"tag": "hosting"}).json
    assert hosting["total"] == sum(1 for r in chain_10k if r["tag"].startswith("hosting:"))
    one = webtest.get("/api/v1/audit/events", {"subject_type": "miner", "subject_id": "5"}).json
    assert {(e["subject_type"], e["subject_id"]) for e in one["items"]} == {("miner", "5")}
    window = webtest.get(
        "/api/v1/audit/events",
        {"since": "2026-05-01T08:00:10Z", "until": "2026-05-01T08:00:20Z"},
    ).json
    assert sorted(e["seq"] for e in window["items"]) == list(range(10, 20))
    assert window["items"][0]["payload"]["名前"] == '测试 "quoted"'
    bad = webtest.get("/api/v1/audit/events", {"since": "yesterday"}, status=422)
    assert "since" in bad.json["error"]["message"]
    webtest.get("/api/v1/audit/events", {"actor_type": "robot"}, status=400)


def test_audit_page_lists_filters_and_pages(webtest, engine, chain_10k):
    login(webtest, engine, "operator")
    webtest.get("/admin/audit/", status=403)
    webtest.reset()
    email = login(webtest, engine, "admin")
    page = webtest.get("/admin/audit/")
    newest = head_seq(engine)
    assert page.html.select("tr[data-seq]")[0]["data-seq"] == str(newest)
    assert page.html.select_one("[data-testid=head-seq]").text.strip() == f"{newest:,}"
    assert "Older" in page.text and f"1 / {-(-newest // 50)}" in page.text
    second = webtest.get("/admin/audit/", {"page": 2})
    assert second.html.select("tr[data-seq]")[0]["data-seq"] == str(newest - 50)
    assert "core:audit:read" not in page.text  # permissions are never shown as raw strings

    filtered = webtest.get("/admin/audit/", {"actor": "device:edge-2", "tag": "core:user"})
    expected = [
        r["seq"]
        for r in chain_10k
        if r["actor_id"] == "edge-2" and r["tag"].startswith("core:user:")
    ]
    assert f"{len(expected)} events" in filtered.html.select_one("[data-testid=event-count]").text
    shown = [int(tr["data-seq"]) for tr in filtered.html.select("tr[data-seq]")]
    assert shown == sorted(expected, reverse=True)[:50]
    link = filtered.html.select_one("[data-testid=csv-link]")["href"]
    assert "actor=device%3Aedge-2" in link and "tag=core%3Auser" in link

    timed = webtest.get(
        "/admin/audit/", {"since": "2026-05-01T08:00:10", "until": "2026-05-01T08:00:13"}
    )
    assert [tr["data-seq"] for tr in timed.html.select("tr[data-seq]")] == ["12", "11", "10"]
    from hashinsight_core.models import User

    with engine.connect() as conn:
        user_id = conn.scalar(sa.select(User.id).where(User.email == email))
    seqs = lambda page: [tr["data-seq"] for tr in page.html.select("tr[data-seq]")]  # noqa: E731
    by_email = webtest.get("/admin/audit/", {"actor": email})
    assert seqs(by_email) == seqs(webtest.get("/admin/audit/", {"actor": f"user:{user_id}"}))
    nobody = webtest.get("/admin/audit/", {"actor": "nobody@example.com"})
    assert "No events match these filters." in nobody.text
    bad = webtest.get("/admin/audit/", {"until": "not a date"}, status=400)
    assert "until" in bad.html.select_one("[data-testid=error]").text


def test_csv_export_has_exactly_the_filtered_rows_and_is_safe_in_spreadsheets(
    webtest, engine, chain_10k
):
    with engine.begin() as conn:
        service.append(conn, "core:user:login", actor=("device", "=HYPERLINK(1)"))
    login(webtest, engine, "owner")
    response = webtest.get("/admin/audit/export.csv", {"tag": "crm:customer"})
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0][:3] == ["seq", "occurred_at", "actor_type"]
    expected = [r for r in chain_10k if r["tag"].startswith("crm:customer:")]
    assert [int(row[0]) for row in lines[1:]] == [r["seq"] for r in expected]
    first = expected[0]
    assert lines[1][9] == first["hash"] and lines[1][7] == first["payload"]
    assert lines[1][1] == chain.format_time(first["occurred_at"])
    everything = list(csv.reader(io.StringIO(webtest.get("/admin/audit/export.csv").text)))
    assert len(everything) == head_seq(engine) + 1
    assert [row for row in everything if row[2] == "device" and "HYPER" in row[3]] != []
    assert all(row[3] == "'=HYPERLINK(1)" for row in everything if "HYPER" in row[3])


def test_verify_page_shows_ok_and_the_failure(webtest, engine, chain_10k):
    login(webtest, engine, "admin")
    page = webtest.get("/admin/audit/verify/")
    assert page.html.select_one("[data-testid=verify-ok]")
    execute(engine, "DELETE FROM core_audit_events WHERE seq = 2500")
    failed = webtest.get("/admin/audit/verify/").html.select_one("[data-testid=verify-failed]")
    assert (failed["data-code"], failed["data-seq"]) == ("gap", "2500")
    assert "Event 2500 is missing." in failed.text


def test_sign_button_for_owners(signing_app, engine):
    app, _ = signing_app
    with engine.begin() as conn:
        service.append(conn, "core:user:login")
    login(app, engine, "owner")

    def sign_form(page):
        (form,) = [f for f in page.forms.values() if f.action == "/admin/audit/checkpoint/"]
        return form

    done = sign_form(app.get("/admin/audit/")).submit().follow()
    assert "A new checkpoint was signed." in done.html.select_one("[data-testid=outcome]").text
    again = sign_form(app.get("/admin/audit/")).submit().follow()
    assert "Nothing new" in again.text
    app.reset()
    login(app, engine, "admin")
    assert "/admin/audit/checkpoint/" not in app.get("/admin/audit/").text


def test_readyz_says_whether_checkpoints_are_signed(webtest, signing_app):
    detail = webtest.get("/readyz").json["checks"]["audit"]
    assert detail["ok"] is True and detail["detail"].startswith("checkpoints off")
    app, _ = signing_app
    detail = app.get("/readyz").json["checks"]["audit"]["detail"]
    assert detail.startswith(f"signing as {ORIGIN} (key {chain.key_id(ORIGIN, PUBLIC).hex()})")


def test_nav_shows_the_audit_log_to_admins_only(webtest, engine):
    login(webtest, engine, "viewer")
    assert "/admin/audit/" not in webtest.get("/").text
    webtest.reset()
    login(webtest, engine, "admin")
    assert 'href="/admin/audit/"' in webtest.get("/").text


def test_the_reference_verifier_in_the_docs_checks_a_real_export(webtest, engine, tmp_path):
    """docs/audit.md promises an outside verifier can re-implement the hash: its snippet,
    which uses nothing from this project, must accept a real CSV export and catch an edit."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    block = docs.split("<!-- reference verifier")[1]
    script = tmp_path / "verify_csv.py"
    script.write_text(re.search(r"```python\n(.*?)```", block, re.S).group(1))
    with engine.begin() as conn:
        for i, actor in enumerate(["=SUM(A1)", 'quote " and \\ back', "测试", "-1", "@x"]):
            service.append(
                conn,
                "core:user:update",
                actor=("device", actor),
                subject=("miner", f"+{i}"),
                payload={"i": i / 3, "text": "line\nbreak\u0001", "big": 10**20, "名": "值"},
            )
    login(webtest, engine, "owner")
    export = tmp_path / "export.csv"
    export.write_bytes(webtest.get("/admin/audit/export.csv").body)

    def run():
        return subprocess.run(
            [sys.executable, str(script), str(export)], capture_output=True, text=True
        )

    ok = run()
    assert ok.returncode == 0 and ok.stdout.startswith(f"OK: {head_seq(engine)} events"), ok
    export.write_text(export.read_text(encoding="utf-8").replace("line", "lime", 1), "utf-8")
    changed = run()
    assert changed.returncode != 0 and "event 1 was changed" in changed.stderr
