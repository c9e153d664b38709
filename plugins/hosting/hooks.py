from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from plugins.hosting.permissions import HostingPermission, permission_specs
from plugins.hosting.schemas import API_PATHS

TITLE = "Hosting"
REQUIRES: tuple[str, ...] = ()

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.hosting")


@hookimpl
def hashinsight_models():
    return [
        "plugins.hosting.models",
        "plugins.hosting.telemetry.models",
        "plugins.hosting.alerts.models",
        "plugins.hosting.tickets.models",
        "plugins.hosting.kpi.models",
        "plugins.hosting.brands.models",
        "plugins.hosting.portal.models",
    ]


@hookimpl
def hashinsight_permissions():
    specs = permission_specs()
    for part in _parts():
        specs += part.permission_specs()
    return specs


def _parts():
    """The operations parts of the plugin, each a package with the same small interface."""
    from plugins.hosting import brands, kpi, portal, search, tickets

    return (tickets, kpi, search, brands, portal)


@hookimpl
def hashinsight_nav_items(request):
    return [
        NavItem(
            _("Monitoring"),
            "hosting.monitor.fleet",
            HostingPermission.MINER_READ,
            "speedometer2",
            19,
        ),
        NavItem(_("Sites"), "hosting.site.list", HostingPermission.SITE_READ, "building", 20),
        NavItem(_("Miners"), "hosting.miner.list", HostingPermission.MINER_READ, "cpu", 21),
        NavItem(
            _("Edge devices"), "hosting.device.list", HostingPermission.DEVICE_READ, "router", 22
        ),
        alert_nav_item(request),
    ] + [item for part in _parts() for item in part.nav_items(request)]


def alert_nav_item(request) -> NavItem:
    """The alerts menu entry, with the number of open alerts the account may see."""
    title = _("Alerts")
    if request.user is not None and request.has_permission(HostingPermission.ALERT_READ):
        from plugins.hosting.alerts.services import nav_count

        count = nav_count(request)
        if count:
            title = _("Alerts (${count})", mapping={"count": count})
    return NavItem(title, "hosting.alert.list", HostingPermission.ALERT_READ, "bell", 23)


@hookimpl
def hashinsight_periodic_tasks():
    # Imported here, not at the top: loading the plugin must not import its models.
    from plugins.hosting.alerts import periodic_tasks as alert_tasks
    from plugins.hosting.telemetry.jobs import periodic_tasks

    tasks = periodic_tasks() + alert_tasks()
    for part in _parts():
        tasks += part.periodic_tasks()
    return tasks


@hookimpl
def hashinsight_api_paths():
    from plugins.hosting.alerts.schemas import with_alert_paths

    merged = with_alert_paths(API_PATHS)
    for part in _parts():
        fragment = part.api_paths()
        merged["paths"].update(fragment.get("paths", {}))
        for kind, entries in fragment.get("components", {}).items():
            merged["components"].setdefault(kind, {}).update(entries)
    return merged


@hookimpl
def hashinsight_places(request):
    """Sites and their zones, for limiting accounts to them on the admin user page."""
    import sqlalchemy as sa

    from hashinsight_core.scoping import Place
    from plugins.hosting.models import Site, Zone

    sites = request.dbsession.execute(sa.select(Site.id, Site.name).order_by(Site.name)).all()
    names = dict(sites)
    zones = request.dbsession.execute(
        sa.select(Zone.id, Zone.site_id, Zone.name).order_by(Zone.name)
    ).all()
    places = [Place(site_id, None, name) for site_id, name in sites]
    places += [
        Place(site_id, zone_id, f"{names.get(site_id, site_id)} / {zone}")
        for zone_id, site_id, zone in zones
    ]
    return places


@hookimpl
def hashinsight_demo(request, var_dir, server_url):
    """The demo farm: seeded once, a device per zone, the simulator and its collectors."""
    from plugins.hosting.demo import prepare

    return prepare(request, var_dir, server_url)


@hookimpl
def hashinsight_search(request, query, limit):
    """Miners, sites and tickets for the quick-search box."""
    from plugins.hosting.search import search

    return search(request, query, limit)


@hookimpl
def hashinsight_brand(request):
    """The brand for the request's host name or the signed-in customer (None: the default)."""
    from plugins.hosting.brands import brand_for_request

    return brand_for_request(request)
