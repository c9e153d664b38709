"""Hosting: the farm — sites, zones, racks, miners, edge devices and the telemetry receiver,
and (in ``telemetry``) the four-layer telemetry storage. See docs/hosting.md."""


def includeme(config):
    config.include("plugins.hosting.views")
    config.include("plugins.hosting.edge_views")
    config.include("plugins.hosting.telemetry")
