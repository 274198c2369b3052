"""Loads plugins named in config and gives activities a typed facade over ``pm.hook``.

Every plugin, built-in or third-party, comes in through the ``hub.plugins`` entry-point group
(or, in tests, ``extra_plugins``) and is registered with the same call. Hooks are called one
plugin at a time, so a failing carrier does not hide the quotes of the others.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any, TypeVar, cast

import pluggy
from pydantic import ValidationError

from hub import hookspecs
from hub.domain.messages import (
    ChannelEvent,
    ConfirmationReceipt,
    CustomerNotice,
    FetchRequest,
    Insert,
    InsertRequest,
    ItemSpec,
    LabelLookup,
    LabelRequest,
    NoticeReceipt,
    OrderPage,
    PackagingOption,
    PackagingRequest,
    PackConfirmation,
    PackResult,
    PickList,
    PickListRequest,
    PickResult,
    PurchasedLabel,
    Quote,
    RateRequest,
    ReleaseRequest,
    ReleaseResult,
    Reservation,
    ReservationRequest,
    ShipmentConfirmation,
    TrackingUpdate,
    TrackRequest,
    VoidRequest,
    VoidResult,
    WebhookRequest,
)
from hub.errors import ConfigError, PermanentError, one_line
from hub.plugin import Family, HubPlugin, PluginRuntime
from hub.settings import HubSettings, config_path

ENTRY_POINT_GROUP = "hub.plugins"
T = TypeVar("T")
PluginClass = type[HubPlugin[Any]]


def installed_plugins() -> dict[str, str]:
    """Entry-point name ("<family>.<name>") -> "module:Class", for every installed plugin.

    Nothing is imported here: only the plugins named in config are loaded, so a broken
    package that nobody enabled cannot stop the hub.
    """
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _load(key: str) -> PluginClass:
    (ep,) = entry_points(group=ENTRY_POINT_GROUP, name=key)
    try:
        loaded: PluginClass = ep.load()
    except Exception as exc:  # any import failure of a third-party package: say which, stop
        raise ConfigError(f"plugin {key} ({ep.value}) cannot be imported: {exc}") from exc
    return loaded


class PluginHost:
    """The only door from activities to plugins."""

    def __init__(self, pm: pluggy.PluginManager, plugins: Mapping[str, HubPlugin[Any]]) -> None:
        self._pm = pm
        self._plugins = dict(plugins)
        self._callers: dict[tuple[str, str], Any] = {}

    # ------------------------------------------------------------------ building

    @classmethod
    def from_settings(
        cls,
        settings: HubSettings,
        extra_plugins: Iterable[PluginClass] = (),
    ) -> PluginHost:
        available: dict[str, str | PluginClass] = dict(installed_plugins())
        for plugin_cls in extra_plugins:
            available[f"{plugin_cls.family.value}.{plugin_cls.name}"] = plugin_cls
        runtime = PluginRuntime(data_dir=settings.data_dir, config_dir=config_path().parent)
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        plugins: dict[str, HubPlugin[Any]] = {}
        for family, sections in settings.plugin_sections().items():
            for name, raw in sections.items():
                key = f"{family}.{name}"
                plugin = _build(key, available, raw, runtime)
                if plugin is None:
                    continue
                try:
                    pm.register(plugin, name=key)
                except pluggy.PluginValidationError as exc:
                    raise ConfigError(
                        f"plugin {key} does not fit the hook contracts: {exc}"
                    ) from None
                plugins[key] = plugin
        try:
            pm.check_pending()  # a misspelt hook name fails here, at start-up
        except pluggy.PluginValidationError as exc:
            raise ConfigError(f"unknown hook: {exc}") from None
        return cls(pm, plugins)

    async def aclose(self) -> None:
        for plugin in self._plugins.values():
            await plugin.aclose()

    # ------------------------------------------------------------------ introspection

    def names(self, family: Family) -> list[str]:
        """Enabled plugin names of a family, in config order."""
        prefix = f"{family.value}."
        return [key.removeprefix(prefix) for key in self._plugins if key.startswith(prefix)]

    def plugin(self, family: Family, name: str) -> HubPlugin[Any]:
        key = f"{family.value}.{name}"
        try:
            return self._plugins[key]
        except KeyError:
            raise PermanentError(f"no enabled plugin {key}") from None

    def describe(self) -> list[dict[str, str]]:
        rows = []
        for key, plugin in self._plugins.items():
            hooks = sorted(h.name for h in self._pm.get_hookcallers(plugin) or [])
            rows.append(
                {"plugin": key, "class": type(plugin).__qualname__, "hooks": ",".join(hooks)}
            )
        return rows

    # ------------------------------------------------------------------ dispatch

    async def _call(self, family: Family, name: str, hook: str, **kwargs: Any) -> Any:
        key = f"{family.value}.{name}"
        self.plugin(family, name)
        caller = self._callers.get((hook, key))
        if caller is None:
            others = [p for k, p in self._plugins.items() if k != key]
            caller = self._pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[(hook, key)] = caller
        if not caller.get_hookimpls():
            raise PermanentError(f"plugin {key} does not implement {hook}")
        # Plain hooks run in a thread so blocking I/O (SQLite, files) never stalls the event loop.
        result = await asyncio.to_thread(caller, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    # ------------------------------------------------------------------ marketplaces

    async def verify_webhook(self, marketplace: str, request: WebhookRequest) -> bool:
        return bool(
            await self._call(
                Family.MARKETPLACES, marketplace, "marketplace_verify_webhook", request=request
            )
        )

    async def parse_webhook(self, marketplace: str, request: WebhookRequest) -> list[ChannelEvent]:
        result = await self._call(
            Family.MARKETPLACES, marketplace, "marketplace_parse_webhook", request=request
        )
        return _list_of(ChannelEvent, result)

    async def fetch_orders(self, marketplace: str, request: FetchRequest) -> OrderPage:
        result = await self._call(
            Family.MARKETPLACES, marketplace, "marketplace_fetch_orders", request=request
        )
        return _model(OrderPage, result)

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationReceipt:
        result = await self._call(
            Family.MARKETPLACES,
            confirmation.marketplace,
            "marketplace_confirm_shipment",
            confirmation=confirmation,
        )
        return _model(ConfirmationReceipt, result)

    async def simulate_orders(self, marketplace: str, count: int) -> list[WebhookRequest]:
        result = await self._call(
            Family.MARKETPLACES, marketplace, "marketplace_simulate_orders", count=count
        )
        return _list_of(WebhookRequest, result)

    # ------------------------------------------------------------------ warehouses

    async def item_specs(self, warehouse: str, skus: list[str]) -> list[ItemSpec]:
        result = await self._call(Family.WAREHOUSES, warehouse, "warehouse_item_specs", skus=skus)
        return _list_of(ItemSpec, result)

    async def reserve(self, warehouse: str, request: ReservationRequest) -> Reservation:
        result = await self._call(
            Family.WAREHOUSES, warehouse, "warehouse_reserve", request=request
        )
        return _model(Reservation, result)

    async def release(self, warehouse: str, request: ReleaseRequest) -> ReleaseResult:
        result = await self._call(
            Family.WAREHOUSES, warehouse, "warehouse_release", request=request
        )
        return _model(ReleaseResult, result)

    async def pick_list(self, warehouse: str, request: PickListRequest) -> PickList:
        result = await self._call(
            Family.WAREHOUSES, warehouse, "warehouse_pick_list", request=request
        )
        return _model(PickList, result)

    async def confirm_pick(self, warehouse: str, pick_list: PickList) -> PickResult:
        result = await self._call(
            Family.WAREHOUSES, warehouse, "warehouse_confirm_pick", pick_list=pick_list
        )
        return _model(PickResult, result)

    async def confirm_pack(self, warehouse: str, confirmation: PackConfirmation) -> PackResult:
        result = await self._call(
            Family.WAREHOUSES, warehouse, "warehouse_confirm_pack", confirmation=confirmation
        )
        return _model(PackResult, result)

    # ------------------------------------------------------------------ packing

    async def packaging_options(self, request: PackagingRequest) -> list[PackagingOption]:
        options: list[PackagingOption] = []
        for name in self.names(Family.PACKAGING):
            result = await self._call(Family.PACKAGING, name, "packaging_options", request=request)
            options.extend(_list_of(PackagingOption, result))
        return options

    async def inserts(self, request: InsertRequest) -> list[Insert]:
        inserts: list[Insert] = []
        for name in self.names(Family.INSERTS):
            result = await self._call(Family.INSERTS, name, "inserts_for_order", request=request)
            inserts.extend(_list_of(Insert, result))
        return inserts

    # ------------------------------------------------------------------ carriers

    async def quote(self, carrier: str, request: RateRequest) -> list[Quote]:
        result = await self._call(Family.CARRIERS, carrier, "carrier_quote", request=request)
        return _list_of(Quote, result)

    async def buy_label(self, carrier: str, request: LabelRequest) -> PurchasedLabel:
        result = await self._call(Family.CARRIERS, carrier, "carrier_buy_label", request=request)
        return _model(PurchasedLabel, result)

    async def find_label(self, carrier: str, lookup: LabelLookup) -> PurchasedLabel | None:
        result = await self._call(Family.CARRIERS, carrier, "carrier_find_label", lookup=lookup)
        return None if result is None else _model(PurchasedLabel, result)

    async def void_label(self, carrier: str, request: VoidRequest) -> VoidResult:
        result = await self._call(Family.CARRIERS, carrier, "carrier_void_label", request=request)
        return _model(VoidResult, result)

    async def track(self, carrier: str, request: TrackRequest) -> TrackingUpdate:
        result = await self._call(Family.CARRIERS, carrier, "carrier_track", request=request)
        return _model(TrackingUpdate, result)

    async def parse_tracking_webhook(self, carrier: str, request: WebhookRequest) -> TrackingUpdate:
        result = await self._call(
            Family.CARRIERS, carrier, "carrier_parse_tracking_webhook", request=request
        )
        return _model(TrackingUpdate, result)

    # ------------------------------------------------------------------ notifiers

    async def notify(self, notice: CustomerNotice) -> list[NoticeReceipt]:
        receipts = []
        for name in self.names(Family.NOTIFIERS):
            result = await self._call(Family.NOTIFIERS, name, "notify_customer", notice=notice)
            receipts.append(_model(NoticeReceipt, result))
        return receipts


def _build(
    key: str, available: Mapping[str, str | PluginClass], raw: Any, runtime: PluginRuntime
) -> HubPlugin[Any] | None:
    found = available.get(key)
    if found is None:
        known = ", ".join(sorted(available)) or "none"
        raise ConfigError(f"plugin {key} is named in config but not installed (installed: {known})")
    plugin_cls = _load(key) if isinstance(found, str) else found
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}: expected a table of settings, got {type(raw).__name__}")
    try:
        settings = plugin_cls.settings_model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{key}.{one_line(exc)}") from None
    if not settings.enabled:
        return None
    return plugin_cls(settings, runtime)


def _model(model: type[T], value: Any) -> T:
    """Check a plugin's answer at the boundary so a wrong type fails here, loudly."""
    if isinstance(value, model):
        return value
    if value is None:
        raise PermanentError(f"plugin answered nothing where a {model.__name__} was due")
    return cast(T, model.model_validate(value))  # type: ignore[attr-defined]


def _list_of(model: type[T], value: Any) -> list[T]:
    if value is None:
        raise PermanentError(f"plugin answered nothing where a list of {model.__name__} was due")
    return [_model(model, item) for item in value]
