"""The carrier push buffer: kept until a tracking call takes it, replayable by that call only,
bounded in age and size, and shared safely by threads and processes."""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.pushes import PushBuffer

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def event(number: str, step: int = 0, status: TrackingStatus = TrackingStatus.DELIVERED):
    return TrackingEvent(
        tracking_number=number,
        status=status,
        carrier_code=f"C{step}",
        description="delivered to the front door",
        occurred_at=T0 + timedelta(minutes=step),
    )


def test_stored_events_are_taken_by_one_call_and_replayed_only_to_that_call(tmp_path):
    buffer = PushBuffer(tmp_path / "pushes.sqlite")
    assert buffer.take("sandbox", "SBX1", "run-a/1") == []  # nothing yet: no claim is made
    events = [event("SBX1", 0), event("SBX1", 1)]
    assert buffer.store("sandbox", "SBX1", events)
    assert buffer.store("sandbox", "SBX2", [event("SBX2")])
    assert buffer.pending() == 3

    assert buffer.take("sandbox", "SBX1", "run-a/1") == events
    assert buffer.pending() == 1  # SBX2's only
    # A retry or replay of the same call (its result never reached history) gets them again...
    assert buffer.take("sandbox", "SBX1", "run-a/1") == events
    # ...and no other call does: they were handed in already.
    assert buffer.take("sandbox", "SBX1", "run-a/2") == []
    assert buffer.take("dhl", "SBX2", "run-b/1") == []  # keyed by carrier too
    assert buffer.take("sandbox", "SBX2", "run-b/1") == [event("SBX2")]


def test_a_redelivered_push_is_kept_once_and_a_delivered_one_not_again(tmp_path):
    buffer = PushBuffer(tmp_path / "pushes.sqlite")
    assert buffer.store("sandbox", "SBX1", [event("SBX1")])
    assert buffer.store("sandbox", "SBX1", [event("SBX1")])
    assert buffer.pending() == 1
    assert buffer.take("sandbox", "SBX1", "run-a/1") == [event("SBX1")]
    assert buffer.store("sandbox", "SBX1", [event("SBX1")])  # the carrier redelivers later
    assert buffer.take("sandbox", "SBX1", "run-a/2") == []


def test_a_push_nobody_takes_expires_logged_and_recorded_without_its_number(tmp_path, caplog):
    clock = Clock()
    buffer = PushBuffer(tmp_path / "pushes.sqlite", max_age=timedelta(days=7), clock=clock)
    buffer.store("ups", "1ZOLDPARCEL", [event("1ZOLDPARCEL", 0), event("1ZOLDPARCEL", 1)])
    clock.now = T0 + timedelta(days=6)
    buffer.store("ups", "1ZNEWPARCEL", [event("1ZNEWPARCEL")])
    assert buffer.pending() == 3
    assert not buffer.drops_file.exists()

    clock.now = T0 + timedelta(days=7, seconds=1)
    with caplog.at_level(logging.WARNING, logger="hub.pushes"):
        assert buffer.take("ups", "1ZNEWPARCEL", "run-a/1") == [event("1ZNEWPARCEL")]
    assert buffer.pending() == 0
    assert buffer.take("ups", "1ZOLDPARCEL", "run-b/1") == []  # gone for good
    (record,) = [json.loads(line) for line in buffer.drops_file.read_text().splitlines()]
    assert record["carrier"] == "ups" and record["events"] == 2
    assert record["reason"].startswith("expired")
    assert "2 ups tracking push event(s) dropped" in caplog.text
    assert "1ZOLDPARCEL" not in caplog.text + buffer.drops_file.read_text()


def test_claimed_events_are_purged_after_the_replay_window(tmp_path):
    clock = Clock()
    buffer = PushBuffer(tmp_path / "pushes.sqlite", replay_window=timedelta(hours=1), clock=clock)
    buffer.store("sandbox", "SBX1", [event("SBX1")])
    assert buffer.take("sandbox", "SBX1", "run-a/1") == [event("SBX1")]
    clock.now = T0 + timedelta(minutes=59)
    assert buffer.take("sandbox", "SBX1", "run-a/1") == [event("SBX1")]
    clock.now = T0 + timedelta(hours=1, minutes=1)
    buffer.store("sandbox", "SBX2", [event("SBX2")])  # any write purges
    assert buffer.take("sandbox", "SBX1", "run-a/1") == []
    assert not buffer.drops_file.exists()  # delivered, not dropped: nothing to report


def test_a_push_past_a_bound_is_refused_whole_and_recorded(tmp_path):
    buffer = PushBuffer(tmp_path / "pushes.sqlite", max_per_parcel=2, max_events=3)
    assert buffer.store("sandbox", "SBX1", [event("SBX1", 0), event("SBX1", 1)])
    assert not buffer.store("sandbox", "SBX1", [event("SBX1", 2)])  # parcel full
    assert buffer.store("sandbox", "SBX2", [event("SBX2", 0)])
    assert not buffer.store("sandbox", "SBX3", [event("SBX3", 0)])  # buffer full
    assert buffer.pending() == 3
    reasons = [json.loads(line)["reason"] for line in buffer.drops_file.read_text().splitlines()]
    assert reasons == ["not buffered: parcel bound reached", "not buffered: buffer bound reached"]
    # Taking frees room again.
    buffer.take("sandbox", "SBX1", "run-a/1")
    assert buffer.store("sandbox", "SBX3", [event("SBX3", 0)])


PARCELS = [f"SBX{n}" for n in range(4)]
PER_WRITER = 40


def _store_many(path: str, writer: int) -> None:
    """One process (or thread) pushing its own events for every parcel, one push at a time."""
    buffer = PushBuffer(Path(path))
    for step in range(PER_WRITER):
        number = PARCELS[step % len(PARCELS)]
        assert buffer.store("sandbox", number, [event(number, writer * 1000 + step)])


def _take_all(buffer: PushBuffer, writers_done: Callable[[], bool], calls: itertools.count):
    """Take from every parcel under fresh claims until the writers are done and nothing is
    left unclaimed; return what each claim got."""
    taken: dict[str, list[TrackingEvent]] = {}
    while True:
        finished = writers_done()  # read before looking: what they stored is in the buffer
        for number in PARCELS:
            claim = f"run/{next(calls)}"
            got = buffer.take("sandbox", number, claim)
            if got:
                taken[claim] = got
        if finished and buffer.pending() == 0:
            return taken


def _assert_each_taken_once(taken: dict[str, list[TrackingEvent]], writers: int) -> None:
    keys = [e.dedupe_key for events in taken.values() for e in events]
    assert len(keys) == len(set(keys)), "an event was handed to two calls"
    assert len(keys) == writers * PER_WRITER, "an event was lost"


def test_processes_store_while_another_takes_and_every_event_comes_out_once(tmp_path):
    path = tmp_path / "pushes.sqlite"
    writers = 4
    # spawn: forking a process that runs threads (pytest, the event loop) is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=writers, mp_context=context) as pool:
        stored = [pool.submit(_store_many, str(path), w) for w in range(writers)]
        taken = _take_all(
            PushBuffer(path), lambda: all(f.done() for f in stored), itertools.count()
        )
        for future in stored:
            future.result()  # a writer's failure fails the test
    _assert_each_taken_once(taken, writers)


def test_threads_store_and_race_to_take_and_every_event_comes_out_once(tmp_path):
    path = tmp_path / "pushes.sqlite"
    writers, takers = 4, 3
    calls = itertools.count()  # shared: next() on it is atomic
    with ThreadPoolExecutor(max_workers=writers + takers) as pool:
        stored = [pool.submit(_store_many, str(path), w) for w in range(writers)]
        racing = [
            pool.submit(_take_all, PushBuffer(path), lambda: all(f.done() for f in stored), calls)
            for _ in range(takers)
        ]
        for future in stored:
            future.result()
        taken = [future.result() for future in racing]
    _assert_each_taken_once({k: v for t in taken for k, v in t.items()}, writers)
