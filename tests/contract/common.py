"""What every plugin passes, whatever its family."""

from __future__ import annotations

from typing import Any

import pluggy
from pydantic import SecretStr

from hub import hookspecs
from hub.host import PluginHost
from hub.plugin import HubPlugin

SECRET_WORDS = ("secret", "token", "password", "api_key", "apikey", "private")


def host_for(plugin: HubPlugin[Any]) -> PluginHost:
    """The real pluggy machinery around one plugin, as the worker builds it."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    key = f"{plugin.family.value}.{plugin.name}"
    pm.register(plugin, name=key)
    pm.check_pending()
    return PluginHost(pm, {key: plugin})


class PluginContract:
    plugin_fixture = "plugin"

    def test_secrets_are_secret_str(self, plugin: HubPlugin[Any]) -> None:
        for name, field in type(plugin.settings).model_fields.items():
            if any(word in name.lower() for word in SECRET_WORDS):
                assert field.annotation is not None
                assert "SecretStr" in str(field.annotation) or field.annotation is SecretStr, (
                    f"setting {name} looks secret but is not a SecretStr"
                )

    def test_settings_forbid_unknown_keys(self, plugin: HubPlugin[Any]) -> None:
        assert type(plugin.settings).model_config.get("extra") == "forbid"

    def test_hooks_match_the_specs(self, plugin: HubPlugin[Any]) -> None:
        host_for(plugin)  # raises PluginValidationError on a misspelt hook or argument
