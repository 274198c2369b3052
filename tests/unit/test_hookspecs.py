"""Meta-tests on the plugin contracts (after datasette's): documented, typed, implemented."""

from __future__ import annotations

import inspect
from importlib.metadata import entry_points

import pytest

from hub import hookspecs
from hub.host import ENTRY_POINT_GROUP, PluginHost

HOOKS = {
    name: fn
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "hub_spec")
}


def test_there_is_a_hook_family_per_adapter_kind():
    prefixes = {name.split("_")[0] for name in HOOKS}
    assert prefixes == {"marketplace", "warehouse", "packaging", "inserts", "carrier", "notify"}


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_is_documented_and_typed(name):
    fn = HOOKS[name]
    assert fn.__doc__ and len(fn.__doc__.strip()) > 30
    if fn.hub_spec.get("firstresult"):
        assert "Stops at first non-None result." in " ".join(fn.__doc__.split())
    signature = inspect.signature(fn)
    assert signature.return_annotation is not inspect.Signature.empty
    for param in signature.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name}) untyped"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_has_a_facade_method(name):
    source = inspect.getsource(PluginHost)
    assert f'"{name}"' in source


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_is_implemented_by_a_built_in_plugin(name):
    implemented = set()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value.startswith("plugins."):
            cls = ep.load()
            implemented |= {
                n for n, _ in inspect.getmembers(cls) if hasattr(getattr(cls, n), "hub_impl")
            }
    assert name in implemented
