"""The audit page, its CSV export, the verify page and the JSON API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther, HTTPServiceUnavailable
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.view import view_config

from hashinsight_core.audit import chain, service
from hashinsight_core.audit.models import AuditCheckpoint, AuditEvent
from hashinsight_core.audit.permissions import AuditPermission
from hashinsight_core.errors import error_response
from hashinsight_core.exceptions import Conflict, InvalidInput
from hashinsight_core.openapi import paginate

_ = TranslationStringFactory("hashinsight")

LIST_TEMPLATE = "hashinsight_core.audit:templates/audit/events.jinja2"
VERIFY_TEMPLATE = "hashinsight_core.audit:templates/audit/verify.jinja2"
PAGE_SIZE = 50
RETRY_AFTER_SECONDS = 10

ACTOR_LABELS = {"user": _("User"), "device": _("Device"), "system": _("System")}

PROBLEM_TEXT = {
    chain.GAP: _("Event ${seq} is missing."),
    chain.ORDER: _("Event ${seq} appears twice or out of order."),
    chain.CHANGED: _("Event ${seq} was changed after it was recorded."),
    chain.BROKEN_LINK: _(
        "Event ${seq} does not follow the event before it: an event was altered and "
        "re-hashed, or events were reordered."
    ),
    chain.CHECKPOINT_MISMATCH: _(
        "The chain was rewritten: event ${seq} differs from a signed checkpoint."
    ),
    chain.TRUNCATED: _(
        "Events from ${seq} on were deleted, or an older copy of the database was restored."
    ),
    chain.BAD_CHECKPOINT: _(
        "A checkpoint is not signed by a trusted key: the checkpoint table or file was altered."
    ),
}

CHECKPOINT_OUTCOMES = {
    "created": _("A new checkpoint was signed."),
    "unchanged": _("Nothing new since the newest checkpoint."),
    "empty": _("The audit log is empty: there is nothing to sign yet."),
    "off": _("Checkpoints are off: this server has no signing key."),
    "broken": _("The chain does not verify, so no checkpoint was signed."),
}

# One verification at a time per process: it reads the whole table.
_verifying = threading.Lock()


# --- shared ------------------------------------------------------------------------------


def parse_time(text: str | None, field: str, end: bool = False) -> dt.datetime | None:
    """A UTC date or date-time from a form or query; a date as ``until`` means its end."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            value = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())
        else:
            value = dt.datetime.fromisoformat(text)
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
    except ValueError:
        raise InvalidInput(
            _(
                "${field}: '${text}' is not a date (2026-05-01) or a UTC time "
                "(2026-05-01T08:00:00Z)",
                mapping={"field": field, "text": text[:40]},
            ),
            field,
        ) from None
    return value


def filter_from(params, dbsession) -> service.EventFilter:
    """The filter in ``params``; the page's ``actor`` box takes an e-mail, ``user:7``,
    ``device:abc``, ``system`` or a bare id."""
    actor_type = (params.get("actor_type") or "").strip()
    actor_id = (params.get("actor_id") or "").strip()[: chain.MAX_ID_LENGTH]
    actor = (params.get("actor") or "").strip()[:254]
    if actor:
        kind, sep, rest = actor.partition(":")
        if "@" in actor:
            from hashinsight_core.models import User

            found = dbsession.scalar(sa.select(User.id).where(User.email == actor.lower()))
            actor_type, actor_id = "user", str(found) if found is not None else "-"
        elif sep and kind in chain.ACTOR_TYPES:
            actor_type, actor_id = kind, rest
        elif actor in chain.ACTOR_TYPES:
            actor_type = actor
        else:
            actor_id = actor[: chain.MAX_ID_LENGTH]
    if actor_type and actor_type not in chain.ACTOR_TYPES:
        raise InvalidInput(
            _("actor_type: use one of ${types}", mapping={"types": ", ".join(chain.ACTOR_TYPES)}),
            "actor_type",
        )

    return service.EventFilter(
        actor_type=actor_type,
        actor_id=actor_id,
        tag=(params.get("tag") or "").strip()[: chain.MAX_TAG_LENGTH],
        subject_type=(params.get("subject_type") or "").strip()[:50],
        subject_id=(params.get("subject_id") or "").strip()[: chain.MAX_ID_LENGTH],
        since=parse_time(params.get("since"), "since"),
        until=parse_time(params.get("until"), "until", end=True),
    )


def run_verify(request) -> chain.VerifyResult | None:
    """Verify now; None while another verification runs in this process (see busy())."""
    if not _verifying.acquire(blocking=False):
        return None
    try:
        exported = service.newest_exported(request.registry.settings.get("audit.checkpoint_dir"))
        external = [(exported, "exported")] if exported else []
        return service.verify(request.dbsession, request.registry["audit.keys"], external)
    finally:
        _verifying.release()


def busy(request):
    """429 with Retry-After (built here: an exception view would drop the header)."""
    message = request.localizer.translate(_("A verification is already running. Try again soon."))
    response = error_response(request, 429, message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def problem_text(request, problem: chain.Problem | None) -> str:
    if problem is None:
        return ""
    message = PROBLEM_TEXT[problem.code]
    return request.localizer.translate(_(message, mapping={"seq": problem.seq or "?"}))


def _checkpoint(request) -> tuple[chain.Checkpoint | None, bool]:
    try:
        return service.make_checkpoint(
            request.dbsession,
            request.registry["audit.keys"],
            export_dir=request.registry.settings.get("audit.checkpoint_dir"),
        )
    except service.CheckpointsOff:
        raise HTTPServiceUnavailable(
            request.localizer.translate(CHECKPOINT_OUTCOMES["off"])
        ) from None
    except service.ChainBroken as error:
        raise Conflict(problem_text(request, error.problem)) from None


# --- page --------------------------------------------------------------------------------


def _user_emails(dbsession, rows) -> dict[str, str]:
    from hashinsight_core.models import User

    ids = {int(r.actor_id) for r in rows if r.actor_type == "user" and r.actor_id.isdigit()}
    if not ids:
        return {}
    found = dbsession.execute(sa.select(User.id, User.email).where(User.id.in_(ids)))
    return {str(user_id): email for user_id, email in found}


@view_config(
    route_name="core.audit.list",
    renderer=LIST_TEMPLATE,
    request_method="GET",
    permission=AuditPermission.READ,
)
def event_list(request):
    params = request.GET
    error = None
    try:
        spec = filter_from(params, request.dbsession)
    except InvalidInput as problem:
        request.response.status_int = 400
        error, spec = request.localizer.translate(problem.message), service.EventFilter()

    try:
        page = max(1, int(params.get("page", 1)))
    except ValueError:
        page = 1
    rows, total = service.find_events(request.dbsession, spec, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    form = {
        key: (params.get(key) or "")[:254]
        for key in ("actor", "tag", "subject_type", "subject_id", "since", "until")
    }
    query = {key: value for key, value in form.items() if value}
    keys = request.registry["audit.keys"]
    outcome = CHECKPOINT_OUTCOMES.get(params.get("checkpoint", ""))
    return {
        "events": [{**service.event_dict(row), "payload_text": row.payload[:300]} for row in rows],
        "emails": _user_emails(request.dbsession, rows),
        "actor_labels": ACTOR_LABELS,
        "total": total,
        "page": page,
        "pages": pages,
        "form": form,
        "query": query,
        "error": error,
        "head": service.head_of(request.dbsession),
        "newest": service.newest_checkpoint_row(request.dbsession),
        "can_sign": keys.can_sign,
        "outcome": request.localizer.translate(outcome) if outcome else None,
    }


def _csv_cell(value: str) -> str:
    # Spreadsheets run cells that start like a formula; a leading quote keeps them text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


CSV_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "tag",
    "subject_type",
    "subject_id",
    "payload",
    "prev_hash",
    "hash",
)


@view_config(
    route_name="core.audit.export",
    request_method="GET",
    permission=AuditPermission.READ,
)
def export_csv(request):
    spec = filter_from(request.GET, request.dbsession)
    query = service.filtered(sa.select(*service.EVENT_COLUMNS), spec).order_by(service.events.c.seq)
    engine = request.registry["dbengine"]

    def lines():
        # The response is streamed after the request's transaction has ended, so the rows
        # are read on a connection of their own, in chunks.
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with engine.connect() as connection:
            result = connection.execute(query, execution_options={"yield_per": 5000})
            for part in result.partitions():
                for seq, prev, at, a_type, a_id, tag, s_type, s_id, payload, digest in part:
                    writer.writerow(
                        (
                            seq,
                            chain.format_time(at),
                            a_type,
                            _csv_cell(a_id),
                            tag,
                            s_type,
                            _csv_cell(s_id),
                            payload,
                            prev,
                            digest,
                        )
                    )
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    response = Response(app_iter=lines(), content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="audit-{stamp}.csv"'
    return response


@view_config(
    route_name="core.audit.verify",
    renderer=VERIFY_TEMPLATE,
    request_method="GET",
    permission=AuditPermission.READ,
)
def verify_page(request):
    result = run_verify(request)
    if result is None:
        return busy(request)
    return {
        "result": result,
        "problem_text": problem_text(request, result.problem),
        "can_sign": request.registry["audit.keys"].can_sign,
    }


@view_config(
    route_name="core.audit.checkpoint",
    request_method="POST",
    permission=AuditPermission.CHECKPOINT,
)
def checkpoint_form(request):
    try:
        checkpoint, created = _checkpoint(request)
        outcome = "created" if created else ("unchanged" if checkpoint else "empty")
    except HTTPServiceUnavailable:
        outcome = "off"
    except Conflict:
        outcome = "broken"
    return HTTPSeeOther(request.route_path("core.audit.list", _query={"checkpoint": outcome}))


# --- API ---------------------------------------------------------------------------------


@view_config(
    route_name="core.api.audit.verify",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=AuditPermission.READ,
)
def api_verify(request):
    result = run_verify(request)
    return busy(request) if result is None else result.as_dict()


@view_config(
    route_name="core.api.audit.events",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=AuditPermission.READ,
)
def api_events(request):
    spec = filter_from(request.openapi.parameters.query, request.dbsession)
    query = service.filtered(sa.select(AuditEvent), spec).order_by(AuditEvent.seq.desc())
    return paginate(request, query, service.event_dict)


@view_config(
    route_name="core.api.audit.checkpoints",
    request_method="GET",
    renderer="json",
    openapi=True,
    permission=AuditPermission.READ,
)
def api_checkpoints(request):
    query = sa.select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc())
    return paginate(request, query, service.checkpoint_dict)


@view_config(
    route_name="core.api.audit.checkpoints",
    request_method="POST",
    renderer="json",
    openapi=True,
    permission=AuditPermission.CHECKPOINT,
)
def api_checkpoint_create(request):
    checkpoint, created = _checkpoint(request)
    request.response.status_int = 201 if created else 200
    body = None
    if checkpoint is not None:
        row = service.newest_checkpoint_row(request.dbsession)
        body = service.checkpoint_dict(row)
    return {"created": created, "checkpoint": body}


@view_config(
    route_name="core.api.audit.checkpoint_latest",
    request_method="GET",
    openapi=True,
    permission=AuditPermission.READ,
)
def api_checkpoint_latest(request):
    row = service.newest_checkpoint_row(request.dbsession)
    if row is None:
        raise HTTPNotFound("no checkpoint has been signed yet")
    response = Response(row.note, content_type="text/plain", charset="utf-8")
    response.content_disposition = f'attachment; filename="checkpoint-{row.tree_size}.txt"'
    return response
