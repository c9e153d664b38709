from pyramid.i18n import TranslationStringFactory

from hashinsight_core import hookimpl
from hashinsight_core.nav import NavItem
from plugins.calculator.permissions import CalculatorPermission, permission_specs
from plugins.calculator.schemas import API_PATHS

TITLE = "Calculator"
REQUIRES: tuple[str, ...] = ()

_ = TranslationStringFactory("hashinsight")


@hookimpl
def hashinsight_configure(config):
    config.include("plugins.calculator")
    # The catalogue's pages; their views are in views.py, which the include above scans.
    config.include("plugins.calculator.views:add_catalogue_routes")


@hookimpl
def hashinsight_models():
    return ["plugins.calculator.models"]


@hookimpl
def hashinsight_permissions():
    return permission_specs()


@hookimpl
def hashinsight_nav_items(request):
    return [
        NavItem(
            _("Calculator"),
            "calculator.estimate.page",
            CalculatorPermission.ESTIMATE_RUN,
            "calculator",
            10,
        ),
        NavItem(
            _("ASIC models"),
            "calculator.model.list",
            CalculatorPermission.MODEL_MANAGE,
            "cpu",
            11,
        ),
    ]


@hookimpl
def hashinsight_api_paths():
    return API_PATHS
