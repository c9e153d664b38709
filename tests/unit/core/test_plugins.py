import pytest

from hashinsight_core.plugins import PluginError, installed_plugins, load

SHIPPED = {
    "calculator",
    "crm",
    "hosting",
    "controlplane",
    "curtailment",
    "treasury",
    "intelligence",
}


def test_every_shipped_plugin_is_registered_as_an_entry_point():
    assert SHIPPED <= set(installed_plugins())


def test_unknown_plugin_stops_start_up_naming_it():
    with pytest.raises(PluginError, match="unknown plugin 'billing'") as info:
        load(["hosting", "billing"])
    assert "\n" not in str(info.value)


def test_missing_requirement_stops_start_up_naming_both():
    with pytest.raises(PluginError) as info:
        load(["curtailment"])
    message = str(info.value)
    assert "'curtailment' requires plugin 'controlplane'" in message
    assert "\n" not in message


def test_plugins_come_in_dependency_order_and_only_those_named():
    pm, enabled = load(["curtailment", "controlplane", "hosting"])
    names = [info.name for info in enabled]
    assert names.index("hosting") < names.index("controlplane") < names.index("curtailment")
    assert {name for name, _ in pm.list_name_plugin()} == {"curtailment", "controlplane", "hosting"}


def test_duplicates_in_the_list_are_harmless():
    _, enabled = load(["hosting", "hosting"])
    assert [info.name for info in enabled] == ["hosting"]
