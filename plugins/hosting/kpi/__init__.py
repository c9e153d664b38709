"""KPIs: uptime with and without excused events, realized hashrate and J/TH, energy, ticket
figures, fleet health; trend charts, drill-down and CSV/Excel export. See docs/kpi.md.

The rooms: ``period`` (what a period is), ``engine`` (the sums, from SQL), ``tickets`` (ticket
figures), ``report`` (figures with names and series — the one source of every number shown),
``export``, ``events`` (recording excused events), ``views``, ``schemas``; ``sums`` (the
telemetry definitions as SQL), ``rollup`` (the per-miner, per-day KPI rollup and its job),
``source`` (which days a report reads from the rollup, which from the 5-minute rows).
"""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("hashinsight")


def includeme(config):
    config.include("plugins.hosting.kpi.views")


def permission_specs() -> list:
    from plugins.hosting.kpi.permissions import permission_specs as specs

    return specs()


def nav_items(request) -> list:
    from hashinsight_core.nav import NavItem
    from plugins.hosting.kpi.permissions import KpiPermission

    return [NavItem(_("KPIs"), "hosting.kpi.dashboard", KpiPermission.KPI_READ, "graph-up", 24)]


def rollup_job(request) -> dict:
    """Keep ``hosting_kpi_daily`` (see ``plugins.hosting.kpi.rollup``)."""
    import logging

    from plugins.hosting.kpi.rollup import rollup_kpi
    from plugins.hosting.telemetry.config import config_from_request

    result = rollup_kpi(request.dbsession, config=config_from_request(request)).as_dict()
    logging.getLogger(__name__).info("KPI daily rollup: %s", result)
    return result


def periodic_tasks() -> list:
    # Every 10 minutes, like the telemetry daily rollup: finished, dirty and late days, and
    # today up to the 5-minute rollup's watermark. Reports add the newest minutes themselves.
    from huey import crontab

    from hashinsight_core.tasks import PeriodicTask

    return [PeriodicTask(crontab(minute="*/10"), rollup_job, "hosting.kpi_rollup")]


def api_paths() -> dict:
    """An OpenAPI fragment ``{"paths": {...}, "components": {...}}``."""
    from plugins.hosting.kpi.schemas import API_PATHS

    return API_PATHS
