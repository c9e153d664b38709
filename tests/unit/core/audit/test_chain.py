"""The pure chain: canonical bytes, hashing, verification and checkpoint notes."""

import base64
import datetime as dt
import hashlib
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashinsight_core.audit import chain

T0 = dt.datetime(2026, 5, 9, 7, 35, 25, 123456)

# The vectors printed in docs/audit.md: an outside verifier should reproduce these.
VECTOR_1 = (
    '["hashinsight-audit-v1",1,"' + "0" * 64 + '","2026-05-09T07:35:25.123456Z","user","7",'
    '"core:user:login","user","7",{"ip":"192.0.2.10","method":"password",'
    '"名字":"张三 \\"q\\""}]'
)
VECTOR_1_HASH = "d45f4047f1de46b4051f432a1ba85bac9d499c7492ede23c31f33f3343bc4bc3"
VECTOR_2_HASH = "bd379f34b399079dd759c266de0d726384c3e3ec31944af14ee9c87b0a6d6d7c"


def build(n: int, start: dt.datetime = T0, payload=lambda i: {"i": i}) -> list[chain.Event]:
    events, prev = [], chain.GENESIS_HASH
    for seq in range(1, n + 1):
        event = chain.make_event(
            seq,
            prev,
            start + dt.timedelta(seconds=seq),
            "core:user:login",
            ("user", seq % 7),
            ("user", seq % 7),
            payload(seq),
        )
        events.append(event)
        prev = event.hash
    return events


def rows(events):
    return [
        [
            e.seq,
            e.prev_hash,
            e.occurred_at,
            e.actor_type,
            e.actor_id,
            e.tag,
            e.subject_type,
            e.subject_id,
            e.payload,
            e.hash,
        ]
        for e in events
    ]


KEY = chain.private_key_from_text(base64.b64encode(bytes(range(32))).decode())
PUBLIC = chain.public_key_bytes(KEY)
ORIGIN = "farm.example.com/audit"


def checkpoint_of(events, size: int, source="stored") -> chain.Checkpoint:
    signed = chain.sign_checkpoint(
        KEY, ORIGIN, size, events[size - 1].hash, dt.datetime(2026, 5, 9, tzinfo=dt.UTC)
    )
    return chain.read_checkpoint(signed.note, source)


# --- canonical bytes ---------------------------------------------------------------------


def test_known_vectors():
    first = chain.make_event(
        1,
        chain.GENESIS_HASH,
        T0,
        "core:user:login",
        ("user", 7),
        ("user", 7),
        {"ip": "192.0.2.10", "method": "password", "名字": '张三 "q"'},
    )
    assert (
        chain.canonical_bytes(
            1,
            first.prev_hash,
            chain.format_time(first.occurred_at),
            "user",
            "7",
            "core:user:login",
            "user",
            "7",
            first.payload,
        ).decode()
        == VECTOR_1
    )
    assert first.hash == hashlib.sha256(VECTOR_1.encode()).hexdigest() == VECTOR_1_HASH
    second = chain.make_event(
        2,
        first.hash,
        dt.datetime(2026, 5, 9, 7, 36),
        "hosting:miner:update",
        ("device", "edge-3"),
        ("miner", "S19-0042"),
        {"pool": "stratum+tcp://pool.example:3333", "power_w": 3250.5},
    )
    assert second.hash == VECTOR_2_HASH


text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=chain.MAX_ID_LENGTH
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10),
    json_values,
    max_size=6,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    seq=st.integers(min_value=1, max_value=2**62),
    actor_id=text,
    subject_id=text,
    payload=payloads,
    when=st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 1, 1)),
)
def test_canonical_bytes_are_plain_compact_json(seq, actor_id, subject_id, payload, when):
    """The documented rule: json.dumps(..., ensure_ascii=False, separators=(",", ":"))."""
    canonical = chain.canonical_payload(payload)
    data = chain.canonical_bytes(
        seq,
        "ab" * 32,
        chain.format_time(when),
        "device",
        actor_id,
        "x:y:z",
        "miner" if subject_id else "",
        subject_id,
        canonical,
    )
    expected = json.dumps(
        [
            "hashinsight-audit-v1",
            seq,
            "ab" * 32,
            chain.format_time(when),
            "device",
            actor_id,
            "x:y:z",
            "miner" if subject_id else "",
            subject_id,
            json.loads(canonical),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    assert data == expected.encode("utf-8")
    assert json.loads(data)[9] == json.loads(canonical)


def test_payload_is_canonical_and_strict():
    assert chain.canonical_payload({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'
    assert chain.canonical_payload(None) == "{}"
    assert chain.canonical_payload({"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}) == (
        '{"at":"2026-01-01T00:00:00.000000Z"}'
    )
    from decimal import Decimal

    assert chain.canonical_payload({"btc": Decimal("0.10")}) == '{"btc":"0.10"}'
    for bad in ({"x": math.nan}, {"x": math.inf}, {"x": object()}, ["not", "a", "dict"]):
        with pytest.raises(chain.AuditError):
            chain.canonical_payload(bad)
    with pytest.raises(chain.AuditError, match="limit"):
        chain.canonical_payload({"x": "y" * chain.MAX_PAYLOAD_BYTES})
    with pytest.raises(chain.AuditError):
        chain.canonical_payload({"x": "\ud800"})


def test_time_is_utc_with_six_digits():
    assert chain.format_time(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000000Z"
    aware = dt.datetime(2026, 1, 2, 11, 4, 5, 7, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert chain.format_time(aware) == "2026-01-02T03:04:05.000007Z"


@pytest.mark.parametrize(
    "tag", ["core:user:login", "partner-demo:note:create", "crm:customer_note:delete_all"]
)
def test_good_tags(tag):
    assert chain.check_tag(tag) == tag


@pytest.mark.parametrize(
    "tag",
    ["", "core:user", "core:user:login:extra", "Core:user:login", "core::login", "core:user:"]
    + ["core:user:log in", "1core:user:login", "core:user:" + "x" * 100, None],
)
def test_bad_tags(tag):
    with pytest.raises(chain.AuditError, match="source>:<subject>:<action"):
        chain.check_tag(tag)


def test_actor_and_subject_are_checked():
    assert chain.check_actor("user", 7) == ("user", "7")
    with pytest.raises(chain.AuditError, match="actor type"):
        chain.check_actor("robot", 1)
    with pytest.raises(chain.AuditError, match="control"):
        chain.check_actor("device", "a\nb")
    with pytest.raises(chain.AuditError, match="longer"):
        chain.check_actor("device", "x" * 101)
    assert chain.check_subject(None, None) == ("", "")
    assert chain.check_subject("miner", 42) == ("miner", "42")
    with pytest.raises(chain.AuditError, match="lowercase word"):
        chain.check_subject("Miner", 1)
    with pytest.raises(chain.AuditError, match="needs a subject type"):
        chain.check_subject("", 1)


# --- verification ------------------------------------------------------------------------

N = 300
EVENTS = build(N)


def test_untouched_chain_verifies():
    result = chain.verify_events(EVENTS)
    assert result.ok and result.events == N and result.head_hash == EVENTS[-1].hash
    assert chain.verify_rows([]).ok


FIELDS = [
    ("occurred_at", lambda v: v + dt.timedelta(microseconds=1)),
    ("actor_type", lambda v: "system"),
    ("actor_id", lambda v: v + "0"),
    ("tag", lambda v: "core:user:logout"),
    ("subject_type", lambda v: "miner"),
    ("subject_id", lambda v: v + "9"),
    ("payload", lambda v: v.replace("}", ',"x":1}')),
    ("prev_hash", lambda v: ("1" if v[0] == "0" else "0") + v[1:]),
    ("hash", lambda v: ("1" if v[0] == "0" else "0") + v[1:]),
]


@settings(max_examples=200)
@given(index=st.integers(min_value=0, max_value=N - 1), field=st.sampled_from(FIELDS))
def test_any_changed_field_is_found_at_its_seq(index, field):
    name, change = field
    table = rows(EVENTS)
    column = [
        "seq",
        "prev_hash",
        "occurred_at",
        "actor_type",
        "actor_id",
        "tag",
        "subject_type",
        "subject_id",
        "payload",
        "hash",
    ].index(name)
    table[index][column] = change(table[index][column])
    result = chain.verify_rows(table)
    assert not result.ok
    assert result.problem.seq == index + 1
    assert result.problem.code == chain.CHANGED


def test_a_flipped_byte_anywhere_in_the_payload_is_found():
    table = rows(EVENTS)
    original = table[150][8]
    for position in range(len(original)):
        flipped = original[:position] + chr(ord(original[position]) ^ 1) + original[position + 1 :]
        table[150][8] = flipped
        assert chain.verify_rows(table).problem.seq == 151
    table[150][8] = original
    assert chain.verify_rows(table).ok


def test_deleted_middle_event_is_a_gap():
    table = rows(EVENTS)
    del table[99]
    result = chain.verify_rows(table)
    assert (result.problem.code, result.problem.seq) == (chain.GAP, 100)


def test_swapped_events_are_found_at_the_first():
    table = rows(EVENTS)
    table[40], table[60] = table[60], table[40]
    assert chain.verify_rows(table).problem.seq == 41
    table = rows(EVENTS)  # swap the contents but keep the sequence numbers in place
    for column in range(1, 10):
        table[40][column], table[60][column] = table[60][column], table[40][column]
    result = chain.verify_rows(table)
    assert (result.problem.code, result.problem.seq) == (chain.CHANGED, 41)


def test_forged_event_with_a_correct_own_hash_breaks_the_next_link():
    table = rows(EVENTS)
    forged = chain.make_event(
        50, EVENTS[48].hash, T0, "core:user:login", ("user", 1), ("user", 1), {"i": "forged"}
    )
    table[49] = rows([forged])[0]
    result = chain.verify_rows(table)
    assert (result.problem.code, result.problem.seq) == (chain.BROKEN_LINK, 51)


@pytest.mark.parametrize("deleted", [1, 5, 100])
def test_deleting_the_newest_events_is_caught_only_by_a_checkpoint(deleted):
    kept = EVENTS[: N - deleted]
    assert chain.verify_events(kept).ok  # the limitation: a bare hash chain cannot tell
    result = chain.verify_events(kept, [checkpoint_of(EVENTS, N)])
    assert (result.problem.code, result.problem.seq) == (chain.TRUNCATED, N - deleted + 1)
    head = chain.verify_rows(rows(kept), claimed_head=N)  # the unsigned head row also notices
    assert head.problem.code == chain.TRUNCATED


def test_rehashed_chain_is_caught_by_the_checkpoint_and_located_between_two():
    rewritten = build(N, payload=lambda i: {"i": i if i != 170 else "edited"})
    assert chain.verify_events(rewritten).ok  # internally consistent: a real re-hash
    checkpoints = [checkpoint_of(EVENTS, size) for size in (100, 200, 300)]
    result = chain.verify_events(rewritten, checkpoints)
    assert (result.problem.code, result.problem.seq) == (chain.CHECKPOINT_MISMATCH, 200)
    assert "events 101 to 200" in result.problem.message
    assert result.problem.checkpoint.size == 200


def test_restored_older_copy_then_new_events_is_caught():
    older = EVENTS[:250]
    checkpoint = checkpoint_of(EVENTS, N, source="exported")
    assert chain.verify_events(older, [checkpoint]).problem.code == chain.TRUNCATED
    continued = list(older)
    for seq in range(251, 321):
        continued.append(
            chain.make_event(seq, continued[-1].hash, T0, "core:user:login", ("system", ""))
        )
    result = chain.verify_events(continued, [checkpoint])
    assert (result.problem.code, result.problem.seq) == (chain.CHECKPOINT_MISMATCH, N)


def test_verifying_from_a_known_point():
    after = (200, EVENTS[199].hash)
    assert chain.verify_rows(rows(EVENTS[200:]), after=after).ok
    assert not chain.verify_rows(rows(EVENTS[201:]), after=after).ok
    result = chain.verify_rows(rows(EVENTS[200:]), [checkpoint_of(EVENTS, 100)], after=after)
    assert result.ok  # a checkpoint behind the start is not checked again


# --- checkpoints -------------------------------------------------------------------------


def test_checkpoint_note_format_and_key_id():
    when = dt.datetime(2026, 5, 9, 8, 0, tzinfo=dt.UTC)
    signed = chain.sign_checkpoint(KEY, ORIGIN, N, EVENTS[-1].hash, when)
    body, _, signature_line = signed.note.rpartition("\n\n")
    assert body.split("\n") == [
        ORIGIN,
        str(N),
        base64.b64encode(bytes.fromhex(EVENTS[-1].hash)).decode(),
        "time 2026-05-09T08:00:00Z",
    ]
    assert signature_line.startswith(f"\u2014 {ORIGIN} ") and signature_line.endswith("\n")
    raw = base64.b64decode(signature_line.split(" ")[2])
    assert raw[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + PUBLIC).digest()[:4]
    parsed = chain.parse_checkpoint(signed.note, [PUBLIC], "file")
    assert (parsed.size, parsed.head_hash, parsed.time, parsed.origin) == (
        N,
        EVENTS[-1].hash,
        when,
        ORIGIN,
    )


def _mutations(note: str):
    body, _, signature = note.rpartition("\n\n")
    lines = body.split("\n")
    for index, line in enumerate(lines):  # every field of the body, one character at a time
        for position in range(len(line)):
            changed = line[:position] + chr(ord(line[position]) ^ 1) + line[position + 1 :]
            mutated = lines[:index] + [changed] + lines[index + 1 :]
            yield f"{index}:{position}", "\n".join(mutated) + "\n\n" + signature
    name_start = len("\u2014 ")
    yield "key name", note.replace(f"\u2014 {ORIGIN}", f"\u2014 {ORIGIN}x")
    encoded = signature[name_start + len(ORIGIN) + 1 : -1]
    raw = bytearray(base64.b64decode(encoded))
    for position in (0, 3, 4, 40, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[position] ^= 1
        yield (
            f"signature byte {position}",
            note.replace(encoded, base64.b64encode(bytes(flipped)).decode()),
        )
    yield "no final newline", note[:-1]
    yield "no blank line", note.replace("\n\n", "\n")
    yield "control character", note.replace("time", "ti\x01me")
    yield "extra body line", note.replace("\n\n", "\nextra\n\n")
    yield "truncated signature", note[:-10] + "\n"


def test_any_change_to_a_checkpoint_is_rejected():
    note = chain.sign_checkpoint(
        KEY, ORIGIN, N, EVENTS[-1].hash, dt.datetime(2026, 5, 9, tzinfo=dt.UTC)
    ).note
    count = 0
    for label, mutated in _mutations(note):
        if mutated == note:
            continue
        count += 1
        with pytest.raises(chain.CheckpointError):
            chain.parse_checkpoint(mutated, [PUBLIC])
            pytest.fail(f"mutation accepted: {label}")
    assert count > 100


def test_unknown_keys_are_rejected_and_extra_signatures_ignored():
    other = chain.generate_private_key()
    note = chain.sign_checkpoint(
        other, ORIGIN, 5, EVENTS[4].hash, dt.datetime(2026, 5, 9, tzinfo=dt.UTC)
    ).note
    with pytest.raises(chain.CheckpointError, match="not signed by a trusted key"):
        chain.parse_checkpoint(note, [PUBLIC])
    with pytest.raises(chain.CheckpointError, match="trusted"):
        chain.parse_checkpoint(note, [])
    ours = chain.sign_checkpoint(
        KEY, ORIGIN, 5, EVENTS[4].hash, dt.datetime(2026, 5, 9, tzinfo=dt.UTC)
    )
    cosigned = ours.note + note.rpartition("\n\n")[2]  # a witness's line we do not know
    assert chain.parse_checkpoint(cosigned, [PUBLIC]).size == 5
    assert chain.parse_checkpoint(cosigned, [chain.public_key_bytes(other)]).size == 5


@pytest.mark.parametrize("size_line", ["007", "-1", "1.5", "", "99999999999999999999", " 5"])
def test_malformed_sizes_are_rejected(size_line):
    head = base64.b64encode(bytes(32)).decode()
    body = f"{ORIGIN}\n{size_line}\n{head}\ntime 2026-01-01T00:00:00Z\n"
    signature = chain.key_id(ORIGIN, PUBLIC) + KEY.sign(body.encode())
    note = f"{body}\n\u2014 {ORIGIN} {base64.b64encode(signature).decode()}\n"
    with pytest.raises(chain.CheckpointError):
        chain.parse_checkpoint(note, [PUBLIC])


def test_oversized_note_is_rejected():
    with pytest.raises(chain.CheckpointError, match="too large"):
        chain.read_checkpoint("x\n" * 10_000)


def test_keys_round_trip_and_bad_keys():
    text = chain.private_key_text(KEY)
    assert chain.public_key_bytes(chain.private_key_from_text(f"# comment\n{text}\n")) == PUBLIC
    for bad in ("", "not base64!", base64.b64encode(b"short").decode(), f"{text}\n{text}"):
        with pytest.raises(ValueError):
            chain.private_key_from_text(bad)
    with pytest.raises(ValueError):
        chain.public_key_from_text(base64.b64encode(bytes(31)).decode())
    for origin in ("", "has space", "a+b"):
        with pytest.raises(ValueError):
            chain.check_origin(origin)
