"""Hosting: the farm — sites now; zones, miners, telemetry and the customer portal next."""


def includeme(config):
    config.add_route("hosting.site.list", "/hosting/sites/")
    config.add_route("hosting.api.site.collection", "/api/v1/hosting/sites")
    config.add_route("hosting.api.site.item", "/api/v1/hosting/sites/{site_id:\\d+}")
    config.scan("plugins.hosting.views")
