"""Treasury: the farm's BTC inventory now; cost basis methods, sell strategies, backtests next."""


def includeme(config):
    config.add_route("treasury.entry.list", "/treasury/")
    config.add_route("treasury.api.entry.collection", "/api/v1/treasury/entries")
    config.add_route("treasury.api.summary", "/api/v1/treasury/summary")
    config.scan("plugins.treasury.views")
