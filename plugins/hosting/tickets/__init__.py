"""Tickets: opened by customers, operators or alert rules; SLA timers, workflow, comments,
attachments, e-mail notifications, repair log per miner, bulk actions. See docs/tickets.md.

Modules: ``models`` (tables), ``sla`` and ``workflow`` (pure rules), ``services`` (every
change), ``attachments``, ``notify`` (e-mail), ``views`` (pages and API), ``schemas``
(OpenAPI fragment), ``permissions``, ``config`` (settings).
"""

from huey import crontab
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.tasks import PeriodicTask

_ = TranslationStringFactory("hashinsight")


def includeme(config):
    from plugins.hosting.tickets.config import TicketConfig

    config.registry["hosting.tickets.config"] = TicketConfig.from_settings(config.get_settings())
    config.include("plugins.hosting.tickets.views")


def permission_specs() -> list:
    from plugins.hosting.tickets.permissions import permission_specs as specs

    return specs()


def nav_items(request) -> list:
    from hashinsight_core.nav import NavItem
    from plugins.hosting.tickets.permissions import TicketPermission

    return [
        NavItem(_("Tickets"), "hosting.ticket.list", TicketPermission.READ, "life-preserver", 24)
    ]


def check_sla_job(request) -> dict:
    """Every minute: set the breach flags of tickets whose due time passed."""
    from plugins.hosting.tickets.services import check_breaches

    return {"breached": check_breaches(request)}


def periodic_tasks() -> list:
    return [PeriodicTask(crontab(minute="*"), check_sla_job, "hosting.tickets_sla")]


def api_paths() -> dict:
    """An OpenAPI fragment ``{"paths": {...}, "components": {...}}``."""
    from plugins.hosting.tickets.schemas import TICKET_API_PATHS

    return TICKET_API_PATHS


def on_alerts(request, evaluation) -> dict:
    """Called by the alert evaluator after a run: tickets for rules that open them."""
    from plugins.hosting.tickets.services import tickets_for_alerts

    return tickets_for_alerts(request, evaluation)
