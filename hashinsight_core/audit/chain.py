"""The audit hash chain and its signed checkpoints, as plain functions.

No web framework and no database here: the service feeds rows in, the CLI, the API, the
periodic task and the benchmark all share these functions, and an outside verifier can
re-implement them from docs/audit.md (which states the byte format exactly).

Each event's hash is SHA-256 over its *canonical bytes*: the UTF-8 of a compact JSON array

    ["hashinsight-audit-v1",seq,"prev_hash","occurred_at",actor_type,actor_id,tag,
     subject_type,subject_id,payload]

where ``payload`` is the stored canonical JSON text, embedded as it is. The first event links
to ``GENESIS_HASH``. A checkpoint is a signed note (C2SP signed-note, Ed25519) that says "the
chain had this many events and this head hash at this time"; verification compares the chain
with it, which is what catches deleted newest events and a chain re-hashed from scratch.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import enum
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "hashinsight-audit-v1"
GENESIS_HASH = "0" * 64
ACTOR_TYPES = ("user", "device", "system")

TAG_PATTERN = re.compile(r"[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*")
SUBJECT_TYPE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
MAX_TAG_LENGTH = 100
MAX_ID_LENGTH = 100
MAX_SUBJECT_TYPE_LENGTH = 50
MAX_PAYLOAD_BYTES = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# json's own string escaper (C-accelerated): quotes, backslash and control characters only,
# everything else stays literal, which is exactly the rule docs/audit.md states.
_escape = json.encoder.encode_basestring

# C2SP signed-note: the signature type byte for Ed25519 and the em dash that starts a line.
ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
MAX_NOTE_BYTES = 16 * 1024


class AuditError(ValueError):
    """An event that cannot be recorded (bad tag, actor, subject or payload)."""


class CheckpointError(ValueError):
    """A checkpoint note that is malformed or not signed by a trusted key."""


# --- events ------------------------------------------------------------------------------


def format_time(value: dt.datetime) -> str:
    """``2026-05-09T07:35:25.123456Z``: UTC, always six fractional digits. Naive is UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def _json_default(value):
    # Deterministic text for the few non-JSON types services naturally hold.
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def canonical_payload(payload: Mapping | None) -> str:
    """The payload as canonical JSON: keys sorted, no spaces, UTF-8 literal, no NaN."""
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise AuditError("the audit payload must be a JSON object (a dict)")
    try:
        text = json.dumps(
            payload,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_json_default,
        )
        size = len(text.encode("utf-8"))
    except (TypeError, ValueError) as error:
        raise AuditError(f"the audit payload cannot be stored as JSON: {error}") from None
    if size > MAX_PAYLOAD_BYTES:
        raise AuditError(f"the audit payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    return text


def _check_text(name: str, value, limit: int) -> str:
    value = "" if value is None else str(value)
    if len(value) > limit:
        raise AuditError(f"audit {name} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise AuditError(f"audit {name} contains control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise AuditError(f"audit {name} is not valid Unicode text") from None
    return value


def check_tag(tag: str) -> str:
    if not isinstance(tag, str) or len(tag) > MAX_TAG_LENGTH or not TAG_PATTERN.fullmatch(tag):
        raise AuditError(
            f"audit tag {tag!r} is not '<source>:<subject>:<action>' "
            "(lowercase letters, digits, '_' or '-')"
        )
    return tag


def check_actor(actor_type: str, actor_id) -> tuple[str, str]:
    if actor_type not in ACTOR_TYPES:
        raise AuditError(f"audit actor type {actor_type!r} is not one of {', '.join(ACTOR_TYPES)}")
    return actor_type, _check_text("actor id", actor_id, MAX_ID_LENGTH)


def check_subject(subject_type, subject_id) -> tuple[str, str]:
    subject_type = "" if subject_type is None else str(subject_type)
    if subject_type and (
        len(subject_type) > MAX_SUBJECT_TYPE_LENGTH
        or not SUBJECT_TYPE_PATTERN.fullmatch(subject_type)
    ):
        raise AuditError(f"audit subject type {subject_type!r} must be a lowercase word")
    subject_id = _check_text("subject id", subject_id, MAX_ID_LENGTH)
    if subject_id and not subject_type:
        raise AuditError("an audit subject id needs a subject type")
    return subject_type, subject_id


def canonical_bytes(
    seq: int,
    prev_hash: str,
    occurred_at: str,
    actor_type: str,
    actor_id: str,
    tag: str,
    subject_type: str,
    subject_id: str,
    payload: str,
) -> bytes:
    """The bytes an event's hash is taken over (see the module docstring)."""
    return (
        f'["{FORMAT}",{int(seq)},"{prev_hash}","{occurred_at}",{_escape(actor_type)},'
        f"{_escape(actor_id)},{_escape(tag)},{_escape(subject_type)},{_escape(subject_id)},"
        f"{payload}]"
    ).encode()


def event_hash(*fields) -> str:
    """Hex SHA-256 of :func:`canonical_bytes` of the same arguments."""
    return hashlib.sha256(canonical_bytes(*fields)).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    """One link of the chain, in the column order that :func:`verify_rows` reads."""

    seq: int
    prev_hash: str
    occurred_at: dt.datetime
    actor_type: str
    actor_id: str
    tag: str
    subject_type: str
    subject_id: str
    payload: str
    hash: str


def make_event(
    seq: int,
    prev_hash: str,
    occurred_at: dt.datetime,
    tag: str,
    actor: tuple[str, object] = ("system", ""),
    subject: tuple[object, object] = ("", ""),
    payload: Mapping | None = None,
) -> Event:
    """Check the fields and compute the hash of the event that follows ``prev_hash``."""
    tag = check_tag(tag)
    actor_type, actor_id = check_actor(*actor)
    subject_type, subject_id = check_subject(*subject)
    text = canonical_payload(payload)
    if occurred_at.tzinfo is not None:
        occurred_at = occurred_at.astimezone(dt.UTC).replace(tzinfo=None)
    digest = event_hash(
        seq,
        prev_hash,
        format_time(occurred_at),
        actor_type,
        actor_id,
        tag,
        subject_type,
        subject_id,
        text,
    )
    return Event(
        seq,
        prev_hash,
        occurred_at,
        actor_type,
        actor_id,
        tag,
        subject_type,
        subject_id,
        text,
        digest,
    )


# --- verification ------------------------------------------------------------------------

# Problem codes, also used by the API and the page to pick a message.
GAP = "gap"  # an event is missing
ORDER = "order"  # a sequence number repeats or goes backwards
CHANGED = "changed"  # the content does not match the stored hash
BROKEN_LINK = "broken_link"  # prev_hash is not the previous event's hash
CHECKPOINT_MISMATCH = "checkpoint_mismatch"  # a signed checkpoint saw a different hash
TRUNCATED = "truncated"  # a checkpoint (or the head row) knows more events than exist
BAD_CHECKPOINT = "bad_checkpoint"  # a checkpoint is forged, malformed or from another log


@dataclass(frozen=True)
class Problem:
    code: str
    seq: int | None  # the first bad sequence number, when one can be named
    message: str
    checkpoint: Checkpoint | None = None  # the checkpoint the chain disagreed with

    def as_dict(self) -> dict:
        return {"code": self.code, "first_bad_seq": self.seq, "message": self.message}


@dataclass
class VerifyResult:
    events: int = 0  # events checked (all of them when ok)
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problem: Problem | None = None
    checkpoint: Checkpoint | None = None  # the newest checkpoint the chain was held against
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "problem": self.problem.as_dict() if self.problem else None,
            "checkpoint": self.checkpoint.as_dict() if self.checkpoint else None,
            "notes": list(self.notes),
        }


def verify_rows(
    rows: Iterable[Sequence],
    checkpoints: Iterable[Checkpoint] = (),
    claimed_head: int | None = None,
    after: tuple[int, str] = (0, GENESIS_HASH),
) -> VerifyResult:
    """Walk ``rows`` (ordered by seq, columns as :class:`Event`) and report the first problem.

    ``checkpoints`` are statements "event N had hash H": each must match the chain, and none
    may be beyond its end (checking their signatures is the caller's business).
    ``claimed_head`` is the sequence number the head row holds, an unsigned extra check.
    ``after`` starts the walk after a known (seq, hash) instead of at the genesis.
    """
    by_size: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_size.setdefault(checkpoint.size, []).append(checkpoint)
    sizes = sorted(by_size)
    next_index = 0
    next_size = sizes[0] if sizes else -1
    matched_size = after[0]

    result = VerifyResult(head_seq=after[0], head_hash=after[1])
    expected = after[0] + 1
    prev = after[1]
    while 0 <= next_size <= after[0]:  # behind the start (or an empty-chain checkpoint)
        next_index += 1
        next_size = sizes[next_index] if next_index < len(sizes) else -1
    sha256 = hashlib.sha256
    escape = _escape
    fmt = FORMAT
    for row in rows:
        seq, prev_hash, at, actor_type, actor_id, tag, subject_type, subject_id, payload, h = row
        if seq != expected:
            if seq > expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
                result.problem = Problem(
                    GAP, expected, f"event {missing} is missing (the next stored is {seq})"
                )
            else:
                result.problem = Problem(
                    ORDER, seq, f"event {seq} appears again after event {expected - 1}"
                )
            break
        if at.__class__ is not str:
            at = at.isoformat(timespec="microseconds") + "Z"
        try:
            data = (
                f'["{fmt}",{seq},"{prev_hash}","{at}",{escape(actor_type)},{escape(actor_id)},'
                f"{escape(tag)},{escape(subject_type)},{escape(subject_id)},{payload}]"
            ).encode()
        except (UnicodeEncodeError, TypeError):
            data = b""
        if sha256(data).hexdigest() != h:
            result.problem = Problem(
                CHANGED, seq, f"event {seq} does not match its hash: a field was changed"
            )
            break
        if prev_hash != prev:
            result.problem = Problem(
                BROKEN_LINK,
                seq,
                f"event {seq} does not follow event {seq - 1} (its prev_hash differs): one of "
                "them was altered and re-hashed, or events were reordered",
            )
            break
        if seq == next_size:
            for checkpoint in by_size[seq]:
                if checkpoint.head_hash != h:
                    result.problem = Problem(
                        CHECKPOINT_MISMATCH,
                        seq,
                        f"event {seq} differs from the signed checkpoint of size {seq} "
                        f"({checkpoint.source}, {checkpoint.time_text}): the chain was "
                        f"rewritten somewhere in events {matched_size + 1} to {seq}",
                        checkpoint,
                    )
                    break
                result.checkpoint = checkpoint
            if result.problem:
                break
            matched_size = seq
            next_index += 1
            next_size = sizes[next_index] if next_index < len(sizes) else -1
        prev = h
        expected += 1
        result.events = seq
        result.head_seq = seq
        result.head_hash = h

    if result.problem is None:
        count = expected - 1
        beyond = [size for size in sizes if size > count]
        if beyond:
            checkpoint = by_size[max(beyond)][0]
            result.problem = Problem(
                TRUNCATED,
                count + 1,
                f"the signed checkpoint of size {checkpoint.size} ({checkpoint.source}, "
                f"{checkpoint.time_text}) is larger than the chain ({count} events): events "
                f"{count + 1} to {checkpoint.size} were deleted or an older copy was restored",
                checkpoint,
            )
        elif claimed_head is not None and claimed_head > count:
            result.problem = Problem(
                TRUNCATED,
                count + 1,
                f"the chain head records {claimed_head} events but only {count} exist: "
                f"events {count + 1} to {claimed_head} were deleted",
            )
    return result


def verify_events(events: Iterable[Event], checkpoints: Iterable[Checkpoint] = ()):
    """:func:`verify_rows` over :class:`Event` objects (tests, tools)."""
    rows = (
        (
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
        )
        for e in events
    )
    return verify_rows(rows, checkpoints)


# --- keys --------------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """A key from base64 of its raw 32 bytes; lines starting with '#' are comments."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) != 1:
        raise ValueError("expected one line of base64 (the raw 32-byte Ed25519 private key)")
    raw = _b64decode(lines[0], "the signing key")
    if len(raw) != 32:
        raise ValueError(f"the signing key is {len(raw)} bytes; an Ed25519 key is 32")
    return Ed25519PrivateKey.from_private_bytes(raw)


def private_key_text(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_from_text(text: str) -> bytes:
    raw = _b64decode(text.strip(), "the public key")
    if len(raw) != 32:
        raise ValueError(f"the public key is {len(raw)} bytes; an Ed25519 public key is 32")
    return raw


def key_id(name: str, public_key: bytes) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None


# --- checkpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain of ``origin`` had ``size`` events, the last ``head_hash``."""

    origin: str
    size: int
    head_hash: str  # hex
    time: dt.datetime  # aware, UTC, whole seconds
    note: str  # the signed note exactly as signed
    source: str = "database"

    @property
    def time_text(self) -> str:
        return self.time.strftime("%Y-%m-%dT%H:%M:%SZ")

    def as_dict(self) -> dict:
        return {
            "origin": self.origin,
            "size": self.size,
            "head_hash": self.head_hash,
            "time": self.time_text,
            "source": self.source,
        }


def check_origin(origin: str) -> str:
    if not origin or any(c.isspace() or c == "+" for c in origin) or _CONTROL.search(origin):
        raise ValueError(f"audit origin {origin!r} must be non-empty, without spaces or '+'")
    return origin


def checkpoint_body(origin: str, size: int, head_hash: str, time: dt.datetime) -> str:
    """The note text: origin, size, base64 head hash, and a ``time`` extension line."""
    stamp = time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = base64.b64encode(bytes.fromhex(head_hash)).decode()
    return f"{check_origin(origin)}\n{int(size)}\n{head}\ntime {stamp}\n"


def sign_checkpoint(
    key: Ed25519PrivateKey, origin: str, size: int, head_hash: str, time: dt.datetime
) -> Checkpoint:
    """Sign (origin, size, head hash, time) as a C2SP signed note; the key name is the origin."""
    body = checkpoint_body(origin, size, head_hash, time)
    signature = key_id(origin, public_key_bytes(key)) + key.sign(body.encode())
    note = f"{body}\n{SIGNATURE_PREFIX}{origin} {base64.b64encode(signature).decode()}\n"
    return parse_checkpoint(note, [public_key_bytes(key)])


def _split_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise CheckpointError("the checkpoint is too large")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise CheckpointError("the checkpoint contains control characters")
    if not text.endswith("\n"):
        raise CheckpointError("the checkpoint does not end with a newline")
    cut = text.rfind("\n\n")
    if cut < 0:
        raise CheckpointError("the checkpoint has no signature block")
    body, block = text[: cut + 1], text[cut + 2 :]
    signatures = []
    for line in block.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError("a signature line does not start with '\u2014 '")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = _b64decode(encoded, "a signature")
        except ValueError as error:
            raise CheckpointError(str(error)) from None
        if not name or len(raw) < 5:
            raise CheckpointError("a signature line is malformed")
        signatures.append((name, raw[:4], raw[4:]))
    if not signatures:
        raise CheckpointError("the checkpoint has no signature")
    return body, signatures


def check_signature(text: str, trusted_keys: Iterable[bytes]) -> None:
    """Raise :class:`CheckpointError` unless one of ``trusted_keys`` signed the note.

    Signatures by unknown keys are ignored (as the signed-note spec says); a signature by a
    known key that fails, or no known signature at all, rejects the note.
    """
    body, signatures = _split_note(text)
    trusted = list(trusted_keys)
    verified = False
    for name, kid, signature in signatures:
        for public in trusted:
            if key_id(name, public) != kid:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(signature, body.encode())
            except InvalidSignature:
                raise CheckpointError("the checkpoint's signature does not verify") from None
            verified = True
    if not verified:
        raise CheckpointError("the checkpoint is not signed by a trusted key")


def read_checkpoint(text: str, source: str = "database") -> Checkpoint:
    """Read a note's fields without checking its signature (see :func:`check_signature`)."""
    body, _signatures = _split_note(text)
    lines = body[:-1].split("\n")
    if len(lines) < 4 or any(not line for line in lines):
        raise CheckpointError("the checkpoint text needs origin, size, hash and time lines")
    origin, size_text, head_b64, *extensions = lines
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size_text):
        raise CheckpointError("the checkpoint size is not a decimal number")
    try:
        head = _b64decode(head_b64, "the checkpoint hash")
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    if len(head) != 32:
        raise CheckpointError("the checkpoint hash is not 32 bytes")
    stamps = [line[5:] for line in extensions if line.startswith("time ")]
    try:
        (stamp,) = stamps
        time = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise CheckpointError("the checkpoint has no valid 'time' line") from None
    return Checkpoint(origin, int(size_text), head.hex(), time, text, source)


def parse_checkpoint(
    text: str, trusted_keys: Iterable[bytes], source: str = "database"
) -> Checkpoint:
    """Check the note's signature, then read its fields."""
    check_signature(text, trusted_keys)
    return read_checkpoint(text, source)
