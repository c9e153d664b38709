"""The market area's hook implementations: menu entry, API paths, periodic refresh.

The area itself is included by the core (``hashinsight_core.market`` in the core's parts);
these hooks let it contribute the way a plugin would. If ``make_config`` registers this module
(name ``core.market``) before the API document and tasks are built, the hooks are used as is;
otherwise ``includeme`` registers it and adds the API paths and the task itself.
"""

from __future__ import annotations

from huey import crontab
from pyramid.i18n import TranslationStringFactory

from hashinsight_core.hookspecs import hookimpl
from hashinsight_core.nav import NavItem
from hashinsight_core.tasks import PeriodicTask

_ = TranslationStringFactory("hashinsight")

REFRESH_TASK = "core.market_refresh"


@hookimpl
def hashinsight_nav_items(request):
    from hashinsight_core.permissions import CorePermission

    return [
        NavItem(
            _("Market data"), "core.market.admin", CorePermission.MARKET_OVERRIDE, "graph-up", 880
        )
    ]


@hookimpl
def hashinsight_api_paths():
    from hashinsight_core.market.schemas import API_PATHS

    return API_PATHS


@hookimpl
def hashinsight_periodic_tasks():
    from hashinsight_core.market.service import refresh_periodic

    # Every five minutes: the price TTL. Each provider answers in under 3 s or is skipped,
    # and a host that failed once is not asked again in the same run.
    return [PeriodicTask(crontab(minute="*/5"), refresh_periodic, REFRESH_TASK)]
