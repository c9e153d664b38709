"""Calculator: the public profitability calculator and the miner model catalogue."""


def includeme(config):
    # Imported here, not at the top: the pure modules of this package (the engine) must be
    # importable without Pyramid.
    from plugins.calculator.client_strings import CLIENT_STRINGS

    config.add_route("calculator.estimate.page", "/calculator/")
    config.add_route("calculator.batch.page", "/calculator/batch/")
    config.add_route("calculator.api.estimate", "/api/v1/calculator/estimate")
    config.add_route("calculator.api.quote", "/api/v1/calculator/quote")
    config.add_route("calculator.api.projection", "/api/v1/calculator/projection")
    config.add_route("calculator.api.montecarlo", "/api/v1/calculator/montecarlo")
    config.add_route("calculator.api.sensitivity", "/api/v1/calculator/sensitivity")
    config.add_route("calculator.api.batch", "/api/v1/calculator/batch")
    config.add_route("calculator.api.batch.file", "/api/v1/calculator/batch/file")
    config.add_route("calculator.api.model.collection", "/api/v1/calculator/models")
    config.add_static_view("static/calculator", "plugins.calculator:static", cache_max_age=3600)
    config.add_client_strings(CLIENT_STRINGS)
    config.scan("plugins.calculator.views")
