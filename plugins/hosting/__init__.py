"""Hosting: the farm — sites, zones, racks, miners, edge devices and the telemetry receiver,
and (in ``telemetry``) the four-layer telemetry storage. See docs/hosting.md."""


def includeme(config):
    config.include("plugins.hosting.views")
    config.include("plugins.hosting.edge_views")
    config.include("plugins.hosting.telemetry")
    config.include("plugins.hosting.alerts")
    # Monitoring pages (fleet, heatmap, live table, miner charts) and their scripts.
    config.include("plugins.hosting.monitor")
    # Operations: tickets, KPIs, quick search, brands and the customer portal.
    for part in ("tickets", "kpi", "search", "brands", "portal"):
        config.include(f"plugins.hosting.{part}")
    config.add_static_view("static/hosting", "plugins.hosting:static", cache_max_age=3600)
    from plugins.hosting.monitor import client_strings

    config.add_client_strings(client_strings())
