"""Outgoing e-mail: composed in the recipient's language, sent only after the transaction
that caused it commits.

``mail.backend`` chooses where mail goes: ``files`` (development: one ``.eml`` file per
message in ``mail.directory``), ``smtp`` (production: ``mail.host``, ``mail.port``,
``mail.username``, ``mail.password`` / ``SMTP_PASSWORD``, ``mail.tls``), or ``memory``
(tests: kept in ``registry["mailer"].outbox``). pyramid_mailer builds and delivers.
"""

from __future__ import annotations

import html
import re
from email.utils import formataddr, parseaddr
from pathlib import Path

from markupsafe import Markup, escape
from pyramid.exceptions import ConfigurationError
from pyramid.renderers import render
from pyramid_mailer.mailer import DebugMailer, DummyMailer, Mailer
from pyramid_mailer.message import Message

from hashinsight_core.i18n import speaking, translate


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


URL = re.compile(r"https?://[^\s<>\"']+")
HTML_LAYOUT = "hashinsight_core:templates/mail/layout.html.jinja2"


def html_paragraphs(text: str) -> list[Markup]:
    """The plain-text body as HTML paragraphs: escaped, line breaks kept, links clickable."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = str(escape(block))
        linked = URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        # Safe: the text was escaped above; only our own <a> and <br> tags are added.
        paragraphs.append(Markup(linked.replace("\n", "<br>\n")))  # noqa: S704
    return paragraphs


def sender_for(settings, brand: dict) -> str:
    """The configured sender address, shown under the brand's name (a customer's mail never
    carries another brand's name, not even in From)."""
    _name, address = parseaddr(settings.get("mail.default_sender") or "")
    address = address or brand.get("support_email") or settings["brand.support_email"]
    return formataddr((str(brand["name"]), address))


_NO_USER = object()


class _AsRecipient:
    """The request as the recipient's account would make it: same host and registry, their
    user. Plugins choose a brand from ``request.user``; this lets them choose the recipient's."""

    def __init__(self, request, user):
        self._request = request
        self.user = user

    def __getattr__(self, name):
        return getattr(self._request, name)


def recipient(request, to: str):
    """The account that has the address ``to``, or None (mail to a plain address)."""
    import sqlalchemy as sa

    from hashinsight_core.models import User

    address = (to or "").strip().lower()
    return request.dbsession.scalar(sa.select(User).where(sa.func.lower(User.email) == address))


def recipient_brand(request, to: str, user=_NO_USER) -> dict:
    """The brand of mail to ``to``: a customer's account gets its customer's brand (whatever
    host the sender used: a password reset asked for on another brand's address, a staff
    action); everyone else the request's brand."""
    from hashinsight_core.web import merge_brand

    if user is _NO_USER:
        user = recipient(request, to)
    if user is None or user.customer_id is None or user is request.user:
        return request.brand
    hook = request.registry.plugin_manager.hook.hashinsight_brand
    return merge_brand(request.registry.settings, hook(request=_AsRecipient(request, user)))


def compose(request, to: str, subject, template: str, values: dict, brand: dict) -> Message:
    """The message: the text body (the main part) and an HTML alternative in the brand's look."""
    settings = request.registry.settings
    # Templates render with HTML autoescape on; a text part must read "A&B", not "A&amp;B".
    values = {key: translate(request, value) for key, value in values.items()}
    body = html.unescape(render(template, {**values, "brand": brand}, request=request)).rstrip()
    if brand.get("mail_footer"):
        body += "\n\n" + str(brand["mail_footer"]).strip()
    body += "\n"
    subject_text = translate(request, subject)
    html_body = render(
        HTML_LAYOUT,
        {
            "brand": brand,
            "subject": subject_text,
            "paragraphs": html_paragraphs(body),
            "lang": "zh-CN" if request.locale_name == "zh" else "en",
        },
        request=request,
    )
    headers = {}
    if brand.get("support_email"):
        headers["Reply-To"] = str(brand["support_email"])
    return Message(
        subject=subject_text,
        sender=sender_for(settings, brand),
        recipients=[to],
        body=body,
        html=html_body,
        extra_headers=headers,
    )


def send_mail(
    request, to: str, subject, template: str, values: dict, *, brand: dict | None = None
) -> None:
    """Render ``template`` (a text Jinja2 template) and send it once this transaction commits.

    ``subject`` and any value of ``values`` may be translation strings. The message is
    written in the recipient's language: their account's (``User.locale``), else the
    request's. ``brand`` is the recipient's brand (a customer's mail carries their hosting
    provider's look, whatever host the sender used); when None, the brand of the recipient's
    account if it is a customer's (see ``recipient_brand``), else the request's. Every
    message has the text body and an HTML alternative in the brand's colours (see
    ``compose``).
    """
    from hashinsight_core.web import merge_brand

    settings = request.registry.settings
    user = recipient(request, to)
    brand = merge_brand(settings, brand) if brand else recipient_brand(request, to, user)
    with speaking(request, user.locale if user is not None else None):
        message = compose(request, to, subject, template, values, brand)
    mailer = request.registry["mailer"]

    def after_commit(success: bool) -> None:
        if success:
            mailer.send_immediately(message)

    request.tm.get().addAfterCommitHook(after_commit)


def includeme(config):
    settings = config.get_settings()
    config.registry["mailer"] = settings.get("hashinsight.mailer") or make_mailer(settings)
    config.add_request_method(send_mail, "send_mail")
