"""Finding, checking and ordering the enabled plugins.

Plugins are loaded by name from the ``hashinsight.plugins`` entry-point group: only the
names listed in the settings are imported, so a plugin that is installed but not enabled
contributes nothing (not even an import side effect).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType

import pluggy
from pyramid.exceptions import ConfigurationError

from hashinsight_core import hookspecs

ENTRY_POINT_GROUP = "hashinsight.plugins"


class PluginError(ConfigurationError):
    """Raised at start-up when the plugin list cannot work; the message is one line."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: ModuleType
    requires: tuple[str, ...]
    title: str


def installed_plugins() -> dict[str, str]:
    """Names of every installed plugin and the module that implements it."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load(names: list[str]) -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    """Load exactly ``names``; return the manager and the plugins in dependency order.

    Raises :class:`PluginError` naming the first unknown plugin or missing requirement.
    """
    pm = pluggy.PluginManager("hashinsight")
    pm.add_hookspecs(hookspecs)
    for name in names:
        if pm.has_plugin(name):
            continue
        if pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name) == 0:
            known = ", ".join(sorted(installed_plugins())) or "none"
            raise PluginError(
                f"unknown plugin '{name}' in hashinsight.plugins (installed: {known})"
            )
    infos = {
        name: PluginInfo(
            name=name,
            module=module,
            requires=tuple(getattr(module, "REQUIRES", ())),
            title=getattr(module, "TITLE", name.title()),
        )
        for name, module in pm.list_name_plugin()
    }
    for info in infos.values():
        for required in info.requires:
            if required not in infos:
                raise PluginError(
                    f"plugin '{info.name}' requires plugin '{required}', which is not enabled; "
                    f"add '{required}' to hashinsight.plugins"
                )
    pm.check_pending()
    return pm, _dependency_order(infos, names)


def _dependency_order(infos: dict[str, PluginInfo], names: list[str]) -> list[PluginInfo]:
    ordered: list[PluginInfo] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in path:
            raise PluginError(
                f"plugins require each other in a cycle: {' -> '.join(path + (name,))}"
            )
        for required in infos[name].requires:
            visit(required, path + (name,))
        seen.add(name)
        ordered.append(infos[name])

    for name in names:
        visit(name, ())
    return ordered
