"""The core's own hook implementations for the audit chain.

Registered by ``make_config`` right after the plugins are loaded (name ``core.audit``), so the
audit area contributes its task, permissions, menu entry and API paths exactly as a plugin
would, while staying part of the core (it is not listed in ``hashinsight.plugins``).
"""

from __future__ import annotations

from huey import crontab
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.hookspecs import hookimpl
from hashinsight_core.nav import NavItem
from hashinsight_core.tasks import PeriodicTask

_ = TranslationStringFactory("hashinsight")

CHECKPOINT_TASK = "core.audit_checkpoint"


@hookimpl(tryfirst=True)
def hashinsight_configure(config):
    # tryfirst: the audit service is in place before any plugin includes itself.
    config.include("hashinsight_core.audit")


@hookimpl
def hashinsight_permissions():
    from hashinsight_core.audit.permissions import permission_specs

    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    from hashinsight_core.audit.permissions import AuditPermission

    return [NavItem(_("Audit log"), "core.audit.list", AuditPermission.READ, "shield-check", 90)]


@hookimpl
def hashinsight_api_paths():
    from hashinsight_core.audit.schemas import API_PATHS

    return API_PATHS


@hookimpl
def hashinsight_periodic_tasks():
    from hashinsight_core.audit.service import checkpoint_task

    # Every five minutes: the window in which deleting the newest events goes unnoticed is
    # one interval. A run with no new event writes nothing, so quiet logs do not grow.
    return [PeriodicTask(crontab(minute="*/5"), checkpoint_task, CHECKPOINT_TASK)]
