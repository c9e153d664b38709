"""Outgoing e-mail: composed in the recipient's language, sent only after the transaction
that caused it commits.

``mail.backend`` chooses where mail goes: ``files`` (development: one ``.eml`` file per
message in ``mail.directory``), ``smtp`` (production: ``mail.host``, ``mail.port``,
``mail.username``, ``mail.password`` / ``SMTP_PASSWORD``, ``mail.tls``), or ``memory``
(tests: kept in ``registry["mailer"].outbox``). pyramid_mailer builds and delivers.
"""

from __future__ import annotations

from pathlib import Path

from pyramid.exceptions import ConfigurationError
from pyramid.renderers import render
from pyramid_mailer.mailer import DebugMailer, DummyMailer, Mailer
from pyramid_mailer.message import Message


def make_mailer(settings):
    backend = settings.get("mail.backend", "memory")
    if backend == "files":
        directory = settings.get("mail.directory") or str(
            Path(settings.get("hashinsight.var_dir", "var")) / "mail"
        )
        return DebugMailer(directory)
    if backend == "smtp":
        if not settings.get("mail.host"):
            raise ConfigurationError("mail.backend = smtp needs mail.host")
        return Mailer.from_settings(settings, prefix="mail.")
    if backend == "memory":
        return DummyMailer()
    raise ConfigurationError(f"unknown mail.backend '{backend}' (use files, smtp or memory)")


def send_mail(
    request, to: str, subject, template: str, values: dict, *, brand: dict | None = None
) -> None:
    """Render ``template`` (a text Jinja2 template) and send it once this transaction commits.

    ``subject`` may be a translation string; both are rendered in the request's language.
    ``brand`` is the recipient's brand (a customer's mail carries their hosting provider's
    look, whatever host the sender used); the request's brand when None.
    """
    settings = request.registry.settings
    brand = brand or request.brand
    body = render(template, {**values, "brand": brand}, request=request)
    message = Message(
        subject=request.localizer.translate(subject),
        sender=settings.get("mail.default_sender") or settings["brand.support_email"],
        recipients=[to],
        body=body,
    )
    mailer = request.registry["mailer"]

    def after_commit(success: bool) -> None:
        if success:
            mailer.send_immediately(message)

    request.tm.get().addAfterCommitHook(after_commit)


def includeme(config):
    settings = config.get_settings()
    config.registry["mailer"] = settings.get("hashinsight.mailer") or make_mailer(settings)
    config.add_request_method(send_mail, "send_mail")
