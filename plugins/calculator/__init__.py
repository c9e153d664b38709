"""Calculator: the public profitability calculator and the miner model catalogue."""


def includeme(config):
    # Imported here, not at the top: the pure modules of this package (the engine) must be
    # importable without Pyramid.
    from pyramid.i18n import TranslationStringFactory

    _ = TranslationStringFactory("hashinsight")
    config.add_route("calculator.estimate.page", "/calculator/")
    config.add_route("calculator.api.estimate", "/api/v1/calculator/estimate")
    config.add_route("calculator.api.model.collection", "/api/v1/calculator/models")
    config.add_static_view("static/calculator", "plugins.calculator:static", cache_max_age=3600)
    config.add_client_strings([_("Please check the numbers marked in red.")])
    config.scan("plugins.calculator.views")
