"""The audit service: append in the caller's transaction, verify, sign checkpoints.

Every function takes ``conn``: ``request.dbsession`` in a request or task, or a plain
SQLAlchemy ``Connection`` in scripts and the benchmark. All statements are Core statements
on the tables, so verification streams tuples and never builds ORM objects.

Appends never fork the chain: the first statement of an append is an ``UPDATE`` of the one
head row, which takes PostgreSQL's row lock (or SQLite's database write lock) until the
transaction ends, so concurrent appenders queue up and each reads the head its predecessor
committed. ``UNIQUE(seq)`` and ``UNIQUE(prev_hash)`` refuse a fork even if that were bypassed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from hashinsight_core.audit import chain
from hashinsight_core.audit.keys import AuditKeys
from hashinsight_core.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from hashinsight_core.db import utcnow

log = logging.getLogger(__name__)

events = AuditEvent.__table__
head = AuditHead.__table__
checkpoints = AuditCheckpoint.__table__

# The column order chain.verify_rows reads.
EVENT_COLUMNS = (
    events.c.seq,
    events.c.prev_hash,
    events.c.occurred_at,
    events.c.actor_type,
    events.c.actor_id,
    events.c.tag,
    events.c.subject_type,
    events.c.subject_id,
    events.c.payload,
    events.c.hash,
)
CHUNK_SIZE = 20_000
EXPORT_PREFIX = "checkpoint-"


class ChainBroken(Exception):
    """The chain failed verification, so no checkpoint was signed."""

    def __init__(self, problem: chain.Problem):
        super().__init__(problem.message)
        self.problem = problem


class CheckpointsOff(Exception):
    """This process holds no signing key."""


@dataclass(frozen=True)
class Appended:
    seq: int
    hash: str
    occurred_at: dt.datetime


def _dialect(conn) -> str:
    bind = conn.get_bind() if hasattr(conn, "get_bind") else conn
    return bind.dialect.name


def _insert_ignoring_conflicts(conn, target, values: dict, returning) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; whether a row went in. ``target`` may be an ORM
    entity, which a request's session must see so that it commits (see :func:`append`)."""
    if _dialect(conn) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(target).values(**values).on_conflict_do_nothing().returning(returning)
    return conn.execute(statement).first() is not None


# --- append ------------------------------------------------------------------------------

_LOCK_HEAD = (
    head.update()
    .where(head.c.id == 1)
    .values(seq=head.c.seq + 1)
    .returning(head.c.seq, head.c.hash)
)


def _lock_head(conn) -> tuple[int, str]:
    """Take the head lock; return the new event's seq and the hash it links to."""
    row = conn.execute(_LOCK_HEAD).first()
    if row is None:
        # The migration creates the row; if it went missing (a wiped table), rebuild it from
        # the newest event. Two appenders racing here both insert-or-ignore, then queue up on
        # the UPDATE like any other pair.
        last = conn.execute(
            sa.select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
        ).first()
        start = {"id": 1, "seq": last.seq if last else 0}
        start["hash"] = last.hash if last else chain.GENESIS_HASH
        _insert_ignoring_conflicts(conn, head, start, head.c.id)
        row = conn.execute(_LOCK_HEAD).first()
    return row.seq, row.hash


def append(
    conn,
    tag: str,
    *,
    actor: tuple[str, object] = ("system", ""),
    subject: tuple[object, object] | None = None,
    payload: Mapping | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> Appended:
    """Append one event in ``conn``'s transaction (which holds the head lock until it ends)."""
    # Check everything before taking the lock, so a bad call never blocks other writers.
    tag = chain.check_tag(tag)
    actor_type, actor_id = chain.check_actor(*actor)
    subject_type, subject_id = chain.check_subject(*(subject or ("", "")))
    text = chain.canonical_payload(payload)

    seq, prev_hash = _lock_head(conn)
    occurred_at = clock()  # taken under the lock, so times follow seq as far as the clock does
    digest = chain.event_hash(
        seq,
        prev_hash,
        chain.format_time(occurred_at),
        actor_type,
        actor_id,
        tag,
        subject_type,
        subject_id,
        text,
    )
    # An ORM-enabled INSERT (the entity, not the table): zope.sqlalchemy sees it and marks
    # a request's session as changed, so the transaction commits rather than rolls back.
    conn.execute(
        sa.insert(AuditEvent).values(
            seq=seq,
            occurred_at=occurred_at,
            actor_type=actor_type,
            actor_id=actor_id,
            tag=tag,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    conn.execute(head.update().where(head.c.id == 1).values(hash=digest))
    return Appended(seq, digest, occurred_at)


def actor_of(request, actor=None) -> tuple[str, object]:
    """``actor`` as (type, id): a given tuple, a user object, else the request's user or system."""
    if actor is None:
        actor = getattr(request, "user", None)
        if actor is None:
            return ("system", "")
    if isinstance(actor, tuple):
        return actor
    return ("user", actor.id)


def request_audit(request, tag, subject=None, payload=None, actor=None) -> Appended:
    """``request.audit(tag, subject=(type, id), payload={...}, actor=None)``.

    Records ``tag`` in the request's transaction: it is committed with the change it
    describes, or rolled back with it. ``actor`` defaults to the logged-in user, else
    ``("system", "")``; devices pass ``("device", device_id)``. Call it after the change, as
    the last write of the transaction: the chain head stays locked until the commit.
    """
    return append(
        request.dbsession,
        tag,
        actor=actor_of(request, actor),
        subject=subject,
        payload=payload,
    )


# --- verify ------------------------------------------------------------------------------


def canonical_time_column(dialect: str):
    """``occurred_at`` as the hashed text (``2026-05-09T07:35:25.123456Z``), made by the
    database: formatting a million datetimes in Python costs more than hashing them.

    SQLite holds the text SQLAlchemy wrote (``2026-05-09 07:35:25.123456``, always six
    digits); any other spelling there was not written by us and fails the hash, as it should.
    """
    column = events.c.occurred_at
    if dialect == "postgresql":
        return sa.func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    if dialect == "sqlite":
        return sa.func.replace(sa.type_coerce(column, sa.String), " ", "T") + "Z"
    return column  # chain.verify_rows formats datetime objects itself


def stream_events(conn, after_seq: int = 0, chunk_size: int = CHUNK_SIZE):
    """Every event after ``after_seq`` as a tuple, in seq order, fetched in chunks.

    ``yield_per`` makes psycopg2 use a server-side cursor, so memory stays flat however
    long the chain is.
    """
    columns = list(EVENT_COLUMNS)
    columns[2] = canonical_time_column(_dialect(conn))
    query = sa.select(*columns).order_by(events.c.seq)
    if after_seq:
        query = query.where(events.c.seq > after_seq)
    result = conn.execute(query, execution_options={"yield_per": chunk_size})
    for partition in result.partitions():
        yield from partition


def stored_checkpoints(conn) -> tuple[list[chain.Checkpoint], chain.Problem | None]:
    """The stored checkpoints, smallest first, read but not yet signature-checked."""
    found: list[chain.Checkpoint] = []
    rows = conn.execute(
        sa.select(checkpoints.c.tree_size, checkpoints.c.note).order_by(checkpoints.c.tree_size)
    )
    for size, note in rows:
        try:
            checkpoint = chain.read_checkpoint(note, "stored")
        except chain.CheckpointError as error:
            return found, chain.Problem(
                chain.BAD_CHECKPOINT, None, f"the stored checkpoint of size {size}: {error}"
            )
        found.append(checkpoint)
    return found, None


def newest_exported(directory: str | os.PathLike | None) -> str | None:
    """The note text of the largest checkpoint exported to ``directory``, if any."""
    if not directory:
        return None
    folder = Path(directory)
    if not folder.is_dir():
        return None
    best: tuple[int, Path] | None = None
    for path in folder.glob(f"{EXPORT_PREFIX}*.txt"):
        match = re.fullmatch(rf"{EXPORT_PREFIX}(\d+)\.txt", path.name)
        if match and (best is None or int(match.group(1)) > best[0]):
            best = (int(match.group(1)), path)
    return best[1].read_text(encoding="utf-8") if best else None


def verify(
    conn,
    keys: AuditKeys,
    external: Iterable[tuple[str, str]] = (),
    chunk_size: int = CHUNK_SIZE,
) -> chain.VerifyResult:
    """Verify the whole chain, the head row, and every checkpoint we know of.

    ``external`` are (note text, source label) pairs kept outside the database (an exported
    file, ``--checkpoint FILE``): they must be signed by a trusted key, and they are what
    catches a restored older copy, which brings its own older checkpoint table with it.

    Checkpoints and the head are read *before* the events, so events appended meanwhile can
    only make the chain longer than what they promise, never shorter.
    """
    notes: list[str] = []
    problem: chain.Problem | None = None
    known: list[chain.Checkpoint] = []

    for text, source in external:
        try:
            checkpoint = chain.read_checkpoint(text, source)
            chain.check_signature(text, keys.trusted)
        except chain.CheckpointError as error:
            return _failed(chain.BAD_CHECKPOINT, None, f"{source}: {error}")
        if checkpoint.origin != keys.origin:
            return _failed(
                chain.BAD_CHECKPOINT,
                None,
                f"{source} is a checkpoint of '{checkpoint.origin}', not of '{keys.origin}'",
            )
        known.append(checkpoint)

    claimed = conn.execute(sa.select(head.c.seq).where(head.c.id == 1)).scalar()
    stored, problem = stored_checkpoints(conn)
    if problem:
        return _failed(problem.code, problem.seq, problem.message)
    if stored and keys.trusted:
        # The newest stored checkpoint vouches for every event up to its size (the chain
        # links them), so it alone must be authentic; older ones are checked on a mismatch.
        try:
            chain.check_signature(stored[-1].note, keys.trusted)
        except chain.CheckpointError as error:
            return _failed(
                chain.BAD_CHECKPOINT,
                None,
                f"the newest stored checkpoint (size {stored[-1].size}): {error}; "
                "the checkpoint table was altered",
            )
    elif stored:
        notes.append("no audit key is configured, so stored checkpoint signatures were not checked")
    known.extend(stored)

    result = chain.verify_rows(stream_events(conn, chunk_size=chunk_size), known, claimed)
    problem = result.problem
    if problem and problem.checkpoint is not None and problem.checkpoint.source == "stored":
        try:
            chain.check_signature(problem.checkpoint.note, keys.trusted)
        except chain.CheckpointError as error:
            result.problem = chain.Problem(
                chain.BAD_CHECKPOINT,
                None,
                f"the stored checkpoint of size {problem.checkpoint.size}: {error}; "
                "the checkpoint table was altered",
            )
    if result.ok:
        newest = max(known, key=lambda c: c.size, default=None)
        if newest is None:
            notes.append(
                "no checkpoint yet: deleted newest events or a re-hashed chain cannot be "
                "detected until one is signed"
            )
        elif result.head_seq > newest.size:
            notes.append(
                f"{result.head_seq - newest.size} newest events are not yet covered by a "
                "signed checkpoint"
            )
    result.notes = notes + result.notes
    return result


def _failed(code: str, seq: int | None, message: str) -> chain.VerifyResult:
    return chain.VerifyResult(problem=chain.Problem(code, seq, message))


# --- checkpoints -------------------------------------------------------------------------


def newest_checkpoint_row(conn):
    return conn.execute(
        sa.select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)
    ).first()


def make_checkpoint(
    conn,
    keys: AuditKeys,
    now: dt.datetime | None = None,
    export_dir: str | os.PathLike | None = None,
) -> tuple[chain.Checkpoint | None, bool]:
    """Sign the current head; return (checkpoint, created).

    Idempotent: with no new event since the newest checkpoint, that one is returned and
    nothing is written. Before signing, the events since the previous checkpoint are
    verified against it, so the log never signs a state inconsistent with what it signed
    before (raises :class:`ChainBroken` instead). Returns (None, False) for an empty chain.
    """
    if not keys.can_sign:
        raise CheckpointsOff("no audit signing key is configured in this process")
    previous = newest_checkpoint_row(conn)
    base: chain.Checkpoint | None = None
    if previous is not None:
        try:
            base = chain.parse_checkpoint(previous.note, keys.trusted, "stored")
        except chain.CheckpointError as error:
            raise ChainBroken(
                chain.Problem(
                    chain.BAD_CHECKPOINT,
                    None,
                    f"the newest stored checkpoint (size {previous.tree_size}): {error}",
                )
            ) from None
    after = (base.size, base.head_hash) if base else (0, chain.GENESIS_HASH)
    result = chain.verify_rows(stream_events(conn, after_seq=after[0]), (), after=after)
    if result.problem is None and base is not None and result.head_seq == base.size:
        # Nothing new: the event the checkpoint names must still be there, unchanged.
        last = conn.execute(sa.select(events.c.hash).where(events.c.seq == base.size)).scalar()
        if last != base.head_hash:
            result.problem = chain.Problem(
                chain.TRUNCATED if last is None else chain.CHECKPOINT_MISMATCH,
                base.size,
                f"event {base.size} no longer matches the newest checkpoint",
            )
    if result.problem is not None:
        raise ChainBroken(result.problem)
    if base is not None and result.head_seq == base.size:
        return base, False
    if result.head_seq == 0:
        return None, False

    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    signed = chain.sign_checkpoint(
        keys.private_key, keys.origin, result.head_seq, result.head_hash, now
    )
    inserted = _insert_ignoring_conflicts(
        conn,
        AuditCheckpoint,
        {
            "tree_size": signed.size,
            "head_hash": signed.head_hash,
            "signed_at": now.astimezone(dt.UTC).replace(tzinfo=None),
            "origin": signed.origin,
            "key_id": keys.key_id,
            "note": signed.note,
        },
        AuditCheckpoint.id,
    )
    if not inserted:  # another process signed the same size a moment ago
        row = newest_checkpoint_row(conn)
        return chain.read_checkpoint(row.note, "stored"), False
    if export_dir:
        export(signed, export_dir)
    return signed, True


def export(checkpoint: chain.Checkpoint, directory: str | os.PathLike) -> Path:
    """Write the note to ``<directory>/checkpoint-<size>.txt`` (atomically)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{EXPORT_PREFIX}{checkpoint.size:012d}.txt"
    partial = target.with_suffix(".tmp")
    partial.write_text(checkpoint.note, encoding="utf-8")
    partial.replace(target)
    return target


def checkpoint_task(request) -> None:
    """The periodic job ``core.audit_checkpoint``: sign the head if it moved."""
    keys: AuditKeys = request.registry["audit.keys"]
    if not keys.can_sign:
        log.debug("audit checkpoints are off: no signing key")
        return
    try:
        checkpoint, created = make_checkpoint(
            request.dbsession,
            keys,
            export_dir=request.registry.settings.get("audit.checkpoint_dir"),
        )
    except ChainBroken as error:
        log.error("audit chain failed verification, no checkpoint signed: %s", error)
        return
    if created:
        log.info("audit checkpoint signed at size %s", checkpoint.size)


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """What the page, the CSV export and the API filter on (all optional)."""

    actor_type: str = ""
    actor_id: str = ""
    tag: str = ""  # a prefix: "core:user" finds every core:user:* event
    subject_type: str = ""
    subject_id: str = ""
    since: dt.datetime | None = None  # inclusive, naive UTC
    until: dt.datetime | None = None  # exclusive, naive UTC

    def as_query(self) -> dict:
        values = {
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "tag": self.tag,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
        }
        return {key: value for key, value in values.items() if value}


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(query: sa.Select, spec: EventFilter) -> sa.Select:
    if spec.actor_type:
        query = query.where(events.c.actor_type == spec.actor_type)
    if spec.actor_id:
        query = query.where(events.c.actor_id == spec.actor_id)
    if spec.tag:
        query = query.where(events.c.tag.like(_like_prefix(spec.tag), escape="\\"))
    if spec.subject_type:
        query = query.where(events.c.subject_type == spec.subject_type)
    if spec.subject_id:
        query = query.where(events.c.subject_id == spec.subject_id)
    if spec.since:
        query = query.where(events.c.occurred_at >= spec.since)
    if spec.until:
        query = query.where(events.c.occurred_at < spec.until)
    return query


def find_events(conn, spec: EventFilter, limit: int, offset: int = 0) -> tuple[list, int]:
    """One page of matching events (newest first) and how many match in all."""
    total = conn.execute(filtered(sa.select(sa.func.count()).select_from(events), spec)).scalar()
    rows = conn.execute(
        filtered(sa.select(events), spec).order_by(events.c.seq.desc()).limit(limit).offset(offset)
    ).all()
    return rows, total


def event_dict(row) -> dict:
    return {
        "seq": row.seq,
        "occurred_at": chain.format_time(row.occurred_at),
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "tag": row.tag,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "payload": json.loads(row.payload),
        "payload_canonical": row.payload,  # the exact text the hash covers
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def checkpoint_dict(row) -> dict:
    checkpoint = chain.read_checkpoint(row.note, "stored")
    return {
        **checkpoint.as_dict(),
        "key_id": row.key_id,
        "note": row.note,
    }


def head_of(conn) -> tuple[int, str]:
    row = conn.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1)).first()
    return (row.seq, row.hash) if row else (0, chain.GENESIS_HASH)
