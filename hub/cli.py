"""The `hub` command line: run the hub, and find and fix orders."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

import click
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from hub.demo import run_demo
from hub.devserver import dev_server
from hub.edge import serving
from hub.errors import ConfigError
from hub.feed import run_feed
from hub.host import PluginHost, installed_plugins
from hub.plugin import Family
from hub.settings import HubSettings, load_settings, use_profile
from hub.temporal import (
    SEARCH_ATTRIBUTE_NAMES,
    build_intake,
    build_worker,
    connect,
    ensure_pollers,
    ensure_search_attributes,
)
from hub.webhooks import create_app
from hub.workflows.contracts import (
    AddressDecision,
    CancelRequest,
    FixAddress,
    FixSku,
    OrderState,
    ReleaseDate,
    Resolution,
    ResolveUndelivered,
)
from hub.workflows.order import ATTENTION, CARRIER, STAGE, OrderWorkflow

log = logging.getLogger("hub")
R = TypeVar("R")


def _async(fn: Callable[..., Coroutine[Any, Any, R]]) -> Callable[..., R]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            return asyncio.run(fn(*args, **kwargs))
        except ConfigError as exc:
            raise click.ClickException(f"config error: {exc}") from None

    return wrapper


def _settings() -> HubSettings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"config error: {exc}") from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """The hub: every order a durable Temporal workflow."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("temporalio").setLevel(logging.WARNING)


# --------------------------------------------------------------------------- running the hub


@main.command()
@click.option(
    "--orders-per-minute", default=12.0, show_default=True, help="Sandbox order feed rate."
)
@click.option("--no-feed", is_flag=True, help="Do not place sandbox orders.")
@_async
async def dev(orders_per_minute: float, no_feed: bool) -> None:
    """Run everything on one machine: dev server + Web UI, worker, webhook intake, channel
    pollers and a sandbox order feed posting signed webhooks to the intake."""
    settings = _settings()
    temporal = settings.temporal
    port = int(temporal.address.rsplit(":", 1)[1])
    db_file = settings.data_dir / temporal.dev_db_filename
    host = PluginHost.from_settings(settings)
    try:
        async with dev_server(
            search_attributes=SEARCH_ATTRIBUTE_NAMES,
            port=port,
            ui_port=temporal.ui_port,
            db_file=db_file,
            log_file=settings.data_dir / "temporal-dev.log",
        ) as server:
            client = await connect(settings)
            await ensure_search_attributes(client, temporal.namespace)
            app = create_app(
                host,
                build_intake(client, settings),
                settings.data_dir / "webhook-rejects.jsonl",
            )
            async with (
                build_worker(client, settings, host),
                serving(app, settings.intake.host, settings.intake.port) as intake_url,
            ):
                pollers = await ensure_pollers(client, settings, host)
                click.echo(
                    f"Temporal Web UI: {server.ui_url}/namespaces/{temporal.namespace}/workflows"
                )
                click.echo(f"Webhook intake:  {intake_url}/webhooks/<plugin>")
                click.echo(f"Pollers:         {', '.join(pollers) or 'none'}")
                click.echo(
                    "Held orders:     hub orders list --attention"
                    "   (UI query: Attention IS NOT NULL)"
                )
                click.echo("Stop with Ctrl-C.")
                feed = None
                if not no_feed and "sandbox" in host.names(Family.MARKETPLACES):
                    feed = asyncio.create_task(
                        run_feed(host, intake_url, "sandbox", orders_per_minute)
                    )
                try:
                    await _until_interrupted()
                finally:
                    if feed is not None:
                        feed.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await feed
    finally:
        await host.aclose()
    click.echo("stopped")


@main.command()
@_async
async def worker() -> None:
    """Run a worker against the Temporal server named in config."""
    settings = _settings()
    host = PluginHost.from_settings(settings)
    client = await connect(settings)
    try:
        added = await ensure_search_attributes(client, settings.temporal.namespace)
        if added:
            log.info("registered search attributes: %s", ", ".join(added))
    except RPCError as exc:  # e.g. Temporal Cloud: attributes are managed in its console
        log.warning(
            "could not check search attributes (%s); register %s yourself",
            exc.message,
            ", ".join(SEARCH_ATTRIBUTE_NAMES),
        )
    try:
        async with build_worker(client, settings, host):
            log.info(
                "worker on task queue %s at %s",
                settings.temporal.task_queue,
                settings.temporal.address,
            )
            pollers = await ensure_pollers(client, settings, host)
            log.info("channel pollers: %s", ", ".join(pollers) or "none")
            await _until_interrupted()
    finally:
        await host.aclose()


@main.command()
@click.option("--host", "bind", default=None, help="Interface (default: [intake] host).")
@click.option("--port", default=None, type=int, help="Port (default: [intake] port).")
@_async
async def intake(bind: str | None, port: int | None) -> None:
    """Serve `POST /webhooks/{plugin}` (channels) and `/webhooks/carriers/{carrier}`."""
    settings = _settings()
    host = PluginHost.from_settings(settings)
    try:
        client = await connect(settings)
        app = create_app(
            host, build_intake(client, settings), settings.data_dir / "webhook-rejects.jsonl"
        )
        async with serving(app, bind or settings.intake.host, port or settings.intake.port) as url:
            click.echo(f"webhook intake on {url}")
            await _until_interrupted()
    finally:
        await host.aclose()


@main.command()
@click.option("--orders", "count", default=20, show_default=True, help="How many sandbox orders.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for orders.")
@_async
async def demo(count: int, as_json: bool, timeout: float) -> None:
    """Run N sandbox orders end to end on embedded defaults; exit 0 if all ended as expected."""
    use_profile("demo")
    report = await run_demo(_settings(), count, timeout=timeout)
    if as_json:
        click.echo(json.dumps(report.as_json()))
    else:
        click.echo(
            f"{report.orders} orders in {report.seconds:.1f} s "
            f"({report.orders_per_second:.2f} completed orders/s)"
        )
        for stage, n in sorted(report.by_stage.items()):
            click.echo(f"  {stage:<12} {n}")
        for code, n in sorted(report.holds.items()):
            click.echo(f"  held for {code}: {n}")
        click.echo(
            f"history events per completed order: {report.history_events_per_order:.1f} "
            f"(max {report.history_events_max}; one-shipment orders max "
            f"{report.history_events_single_shipment_max})"
        )
        for line in report.unexpected:
            click.echo(f"UNEXPECTED {line}", err=True)
    sys.exit(0 if report.ok else 1)


# --------------------------------------------------------------------------- orders


@main.group()
def orders() -> None:
    """Find, inspect and fix orders."""


@orders.command("list")
@click.option("--stage", help="Only orders at this stage (e.g. on_hold, in_transit).")
@click.option("--attention", is_flag=True, help="Only running orders that need a person.")
@click.option("--limit", default=50, show_default=True)
@_async
async def orders_list(stage: str | None, attention: bool, limit: int) -> None:
    client = await connect(_settings())
    clauses = ["WorkflowType='Order'"]
    if stage:
        clauses.append(f"OrderStage='{_quote(stage)}'")
    if attention:
        clauses += ["ExecutionStatus='Running'", "Attention IS NOT NULL"]
    query = " AND ".join(clauses)
    rows = 0
    async for wf in client.list_workflows(query, limit=limit):
        attrs = wf.typed_search_attributes
        at, why, via = (attrs.get(key) or "-" for key in (STAGE, ATTENTION, CARRIER))
        status = wf.status.name if wf.status else "?"
        click.echo(f"{wf.id:<40} {at:<12} {why:<18} {via:<10} {status}")
        rows += 1
    if not rows:
        click.echo(f"no orders match: {query}", err=True)


@orders.command("show")
@click.argument("order_id")
@_async
async def orders_show(order_id: str) -> None:
    state = await _handle(await connect(_settings()), order_id).query(OrderWorkflow.status)
    click.echo(describe_order(state))


@orders.command("fix-address")
@click.argument("order_id")
@click.option("--name")
@click.option("--line1")
@click.option("--line2")
@click.option("--city")
@click.option("--region")
@click.option("--postal-code")
@click.option("--country")
@_async
async def orders_fix_address(order_id: str, **fields: str | None) -> None:
    """Correct a held order's shipping address; a still-invalid address is refused."""
    fix = FixAddress(**fields)
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.fix_address, fix))


@orders.command("fix-sku")
@click.argument("order_id")
@click.option("--line", "line_id", required=True, help="The channel's line id.")
@click.option("--sku", required=True)
@_async
async def orders_fix_sku(order_id: str, line_id: str, sku: str) -> None:
    """Replace an unknown SKU on a held order's line."""
    fix = FixSku(line_id=line_id, sku=sku)
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.fix_sku, fix))


@orders.command("retry")
@click.argument("order_id")
@_async
async def orders_retry(order_id: str) -> None:
    """Resume a held order after its cause was fixed (restocked, carrier account fixed...)."""
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.retry))


@orders.command("ship-available")
@click.argument("order_id")
@_async
async def orders_ship_available(order_id: str) -> None:
    """After a short pick: ship what was picked; the missing units are released and reported."""
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.ship_available))


@orders.command("mark-confirmed")
@click.argument("order_id")
@_async
async def orders_mark_confirmed(order_id: str) -> None:
    """The channel refused the shipment confirmation and you told it by hand: ship on."""
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.mark_confirmed))


@orders.command("relabel")
@click.argument("order_id")
@_async
async def orders_relabel(order_id: str) -> None:
    """The channel changed the address after the label: void it and label the new address."""
    decision = AddressDecision(relabel=True)
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.address_decision, decision))


@orders.command("keep-address")
@click.argument("order_id")
@_async
async def orders_keep_address(order_id: str) -> None:
    """The channel changed the address after the label: ship to the address on the label."""
    decision = AddressDecision(relabel=False)
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.address_decision, decision))


@orders.command("reship")
@click.argument("order_id")
@click.option("--note", default="", help="Why, for the record (no personal data).")
@_async
async def orders_reship(order_id: str, note: str) -> None:
    """A parcel was not delivered: send its lines again as a new shipment."""
    decision = ResolveUndelivered(resolution=Resolution.RESHIP, note=note)
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.resolve, decision))


@orders.command("close")
@click.argument("order_id")
@click.option("--note", default="", help="How it was settled (e.g. refunded in the channel).")
@_async
async def orders_close(order_id: str, note: str) -> None:
    """A parcel was not delivered: end the order here (settled with the customer)."""
    decision = ResolveUndelivered(resolution=Resolution.CLOSE, note=note)
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.resolve, decision))


@orders.command("release-date")
@click.argument("order_id")
@click.option("--at", "release_at", type=click.DateTime(), help="When it may ship (UTC).")
@click.option("--now", "now", is_flag=True, help="Release the presale order now.")
@_async
async def orders_release_date(order_id: str, release_at: datetime | None, now: bool) -> None:
    """Move a presale order's release date, or release it now."""
    if now == (release_at is not None):
        raise click.UsageError("give exactly one of --at or --now")
    when = None if now else release_at.replace(tzinfo=UTC) if release_at else None
    change = ReleaseDate(release_at=when)
    await _update(order_id, lambda h: h.execute_update(OrderWorkflow.set_release_date, change))


@orders.command("cancel")
@click.argument("order_id")
@click.option("--reason", default="cancelled by operator", show_default=True)
@_async
async def orders_cancel(order_id: str, reason: str) -> None:
    """Cancel an order: what has not shipped stops (stock released and put back, labels voided);
    what has shipped is recorded as a return request."""
    handle = _handle(await connect(_settings()), order_id)
    await handle.signal(OrderWorkflow.cancel, CancelRequest(reason=reason))
    click.echo("cancel requested")


@main.command()
def plugins() -> None:
    """List installed plugins and which are enabled in config."""
    settings = _settings()
    enabled = {
        f"{family}.{name}"
        for family, sections in settings.plugin_sections().items()
        for name, section in sections.items()
        if section.get("enabled", True)
    }
    for key, target in sorted(installed_plugins().items()):
        mark = "enabled " if key in enabled else "        "
        click.echo(f"{mark} {key:<26} {target}")


# --------------------------------------------------------------------------- helpers


def _handle(client: Client, order_id: str) -> Any:
    workflow_id = order_id if order_id.startswith("order:") else f"order:{order_id}"
    return client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)


async def _update(order_id: str, send: Callable[[Any], Awaitable[str]]) -> None:
    handle = _handle(await connect(_settings()), order_id)
    try:
        click.echo(await send(handle))
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise click.ClickException(f"refused: {getattr(cause, 'message', cause)}") from None


def describe_order(state: OrderState) -> str:
    order = state.order
    lines = [
        f"order     {order.key}",
        f"stage     {state.stage.value}",
        f"payment   {state.payment.value}",
        f"details   {state.details}",
    ]
    if state.hold:
        lines.append(f"HOLD      {state.hold.code.value}: {state.hold.message}")
        actions = ", ".join(a.how() for a in state.hold.actions)
        lines.append(f"resolve   {actions}")
    if state.outage:
        lines.append(f"OUTAGE    {state.outage}")
    for note in state.after_sales:
        lines.append(f"after-sales {note.kind}: {note.detail}")
    for short in state.short_shipped:
        lines.append(f"short-shipped {short.line_id}: {short.quantity} x {short.sku} (released)")
    if state.resolution_note:
        lines.append(f"closed    {state.resolution_note}")
    for line in order.lines:
        lines.append(f"line      {line.line_id}: {line.quantity} x {line.sku} @ {line.unit_price}")
    for shipment in state.shipments:
        lines.append(
            f"shipment  {shipment.shipment_id} from {shipment.warehouse}: {shipment.status.value}"
        )
        if shipment.carrier:
            lines.append(
                f"  carrier {shipment.carrier.carrier} {shipment.carrier.service_name} "
                f"({shipment.carrier.reason})"
            )
        if shipment.label:
            lines.append(
                f"  label   {shipment.label.tracking_number} {shipment.label.document.uri}"
            )
            for paper in shipment.label.papers:
                lines.append(f"  papers  {paper.kind.value} {paper.document.uri}")
        if shipment.tracking_status.value != "unknown":
            lines.append(f"  tracking {shipment.tracking_status.value}")
    for timing in state.stage_log:
        lines.append(f"  {timing.entered_at.isoformat(timespec='seconds')} {timing.stage.value}")
    return "\n".join(lines)


def _quote(value: str) -> str:
    return value.replace("'", "")


async def _until_interrupted() -> None:
    """Sleep until SIGINT/SIGTERM; the caller's context managers then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def entry() -> None:
    """The `hub` executable. Ends the process with `os._exit` once the command is done: the
    Temporal client's native runtime threads can crash the interpreter while it finalizes
    (`Fatal Python error: PyGILState_Release`, exit 134) after a command that succeeded."""
    code: int = 0
    try:
        main.main(prog_name="hub")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
