"""The sync engine: fetch every source concurrently, store each result as it arrives.

Sources fetch (network, parsing) and never touch the store; this module files what they
return, keeps per-source state and health, and reports one ``SyncResult`` per source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

from companion import __version__
from companion.errors import Interrupted, PlnError, UsageError
from companion.models import ItemData, iso, parse_iso

if TYPE_CHECKING:
    from companion.context import Context
    from companion.specs import SourceSpec
    from companion.store import TinyDBStore

ProgressFn = Callable[["SyncResult"], None]


@dataclass
class SyncResult:
    """The outcome of syncing one source."""

    source: str
    label: str
    status: str  # ok | not_modified | error | skipped | retired
    new: int = 0
    updated: int = 0
    error: str | None = None
    retry_after: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "label": self.label,
            "status": self.status,
            "new": self.new,
            "updated": self.updated,
            "error": self.error,
            "retry_after": self.retry_after,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


class SyncEngine:
    """One run of `pln sync` for a Context (its config, credentials and store).

    Reading never waits for the network (issue 13): the write lock is held only while a
    batch of results is written — what arrived since the last batch — never while
    sources are fetched, so `pln show`, `star` and `read` go in between. Each batch takes the
    lock, forgets cached files that another pln changed meanwhile (``TinyDBStore.lock``),
    reads each source's state afresh, writes, and commits (all its files or none).

    Ctrl-C (SIGINT, when run in the main thread) stops it within a second: no new fetch
    starts, what was already fetched is written, and ``Interrupted`` says how far it got.
    """

    # A batch is written once the first result in it is this old. A batch writes what it
    # adds plus at most one open segment per week it touches (companion.store.segments), so
    # its cost follows its size: a second between batches keeps their fixed cost (a commit,
    # its fsyncs) small, and what waits for the next batch small too (issue 14: it used to
    # rewrite whole weeks, and waited three times as long as the last write took).
    BATCH_SECONDS = 1.0
    # ... or once it holds this many new items, whichever comes first: what waits for a
    # batch is what a cold sync holds in memory (issue 14: 800 feeds of 50 new items came
    # in batches of ~20,000 and peaked at ~190 MB).
    BATCH_ITEMS = 4000

    def __init__(self, companion: Context) -> None:
        self.c = companion
        self.stored = 0  # sources whose result is written
        self.me: Any = None

    def run(self, prefixes: list[str] | None = None, progress: ProgressFn | None = None) -> list[SyncResult]:
        """Fetch sources concurrently and store what is new; one result per source.

        A failing source never stops the others (its error is in its result).
        """
        import queue
        from concurrent.futures import ThreadPoolExecutor

        from companion.sources.base import (
            SourceContext,
            close_sources,
            make_source,
            prepare_sources,
        )

        c = self.c
        specs = (
            [c.find_source(p) for p in dict.fromkeys(prefixes)] if prefixes else c.config.sources
        )
        settings = c.settings
        c.home.ensure()
        ctx = SourceContext(
            settings=settings,
            credentials=_LazyCredentials(c),  # type: ignore[arg-type]
            user_agent=settings.user_agent or f"pln/{__version__} (+https://pypi.org/project/pln/)",
            prepare=prepare_new_items,
        )
        now = c.clock()
        results: list[SyncResult] = []
        states = self._counted_states(specs)  # where each fetch starts; written back fresh
        self.me = c.me()  # (your own statuses arrive read: read once, not in every batch)

        def run(spec: SourceSpec) -> Any:
            source = make_source(spec, ctx)
            return source.fetch(states.get(spec.id, {}).get("source", {}), now)

        todo: list[SourceSpec] = []
        for spec in specs:
            state = states.get(spec.id, {})
            health = state.get("health", {})
            if health.get("retired"):
                r = SyncResult(spec.id, spec.label, "retired", error=health.get("last_error"))
            elif (until := state.get("retry_until")) and parse_iso(until) > now:
                r = SyncResult(spec.id, spec.label, "skipped", retry_after=until,
                               notes=[f"server asked to wait until {until}"])
            else:
                todo.append(spec)
                continue
            results.append(r)
            self.stored += 1
            if progress:
                progress(r)

        finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        stop = _CtrlC(finished)
        try:
            with stop, _few_collections():
                prepare_sources({s.kind for s in todo}, _fresh_kinds(todo, states))
                pool = ThreadPoolExecutor(max_workers=max(1, min(settings.workers, len(todo) or 1)))
                try:
                    self._collect(pool, todo, run, results, now, progress, finished, stop)
                finally:
                    # after Ctrl-C: cancel what has not started; requests under way are
                    # abandoned (the process exits without waiting for them)
                    pool.shutdown(wait=not stop.pressed, cancel_futures=True)
        finally:
            close_sources()
        if stop.pressed:
            raise Interrupted(f"interrupted: {self.stored} of {len(specs)} sources synced; "
                              "nothing lost")
        if settings.sync_markers:  # issue 17: home read position shared with other apps
            from companion.network.markers import after_sync

            # (a few requests per home source, under the lock: it marks items read)
            with _batch(c, "pln sync"):
                after_sync(c, specs, results, now)
        if settings.retention_days > 0:
            self._retain(timedelta(days=settings.retention_days), now)
        order = {s.id: i for i, s in enumerate(specs)}
        results.sort(key=lambda r: order.get(r.source, 0))
        return results

    def _collect(self, pool: Any, todo: list[SourceSpec], run: Callable[[SourceSpec], Any],
                 results: list[SyncResult], now: datetime, progress: ProgressFn | None,
                 finished: Any, stop: _CtrlC) -> None:
        """Submit every fetch; gather results as they complete and write them in batches in
        this thread. A result is dropped once written: the fetches' bodies and items are
        never all held at once."""
        import queue
        import time

        from companion.politeness import HostQueue, host_key

        c = self.c
        # Sources start as workers free up, their hosts interleaved, never more than
        # per_host of one host at a time (issue 14): a thread is never parked on a busy host.
        hosts = HostQueue(todo, host_key, c.settings.per_host)
        slots = max(1, min(c.settings.workers, len(todo) or 1))

        def start() -> None:
            nonlocal slots
            while slots and (spec := hosts.next()) is not None:
                slots -= 1
                t0 = c.clock()
                pool.submit(run, spec).add_done_callback(
                    lambda fut, spec=spec, t0=t0: finished.put((spec, t0, fut)))

        start()
        waiting = len(todo)
        batch: list[_Outcome] = []
        started, held = 0.0, 0  # when the batch's first result came; the items it holds
        interval = self.BATCH_SECONDS
        while waiting and not stop.pressed:
            timeout = None if not batch else max(0.0, started + interval - time.monotonic())
            try:
                got = finished.get(timeout=timeout)
            except queue.Empty:
                got = None
            if got is not None and got is not _STOP:
                spec, t0, fut = got
                waiting -= 1
                if not isinstance(fut, _Finishing):  # its requests are over: the next one
                    slots += 1
                    hosts.done(spec)
                    if not stop.pressed:
                        start()
                outcome = _outcome(spec, t0, fut, c.clock)
                if outcome.later is not None:  # finished elsewhere (a parse worker): wait for it
                    outcome.later.add_done_callback(
                        lambda done, spec=spec, t0=t0, finish=outcome.finish: finished.put(
                            (spec, t0, _Finishing(finish, done))))
                    waiting += 1
                else:
                    if not batch:
                        started, held = time.monotonic(), 0
                    batch.append(outcome)
                    held += _new_items(outcome)
            due = batch and (not waiting or stop.pressed or held >= self.BATCH_ITEMS
                             or time.monotonic() >= started + interval)
            if due and self._write(batch, results, now, progress,
                                   last=not waiting or stop.pressed):
                batch = []
        if batch:  # (interrupted: what was fetched is kept)
            self._write(batch, results, now, progress, last=True)

    def _write(self, batch: list[_Outcome], results: list[SyncResult], now: datetime,
               progress: ProgressFn | None, *, last: bool) -> bool:
        """Write a batch of outcomes under the lock; False if another pln kept the lock too
        long and this is not the last batch (it is tried again with the next one)."""
        from companion.errors import LockedError

        c = self.c
        try:
            with _batch(c, "pln sync"):
                for o in batch:
                    self._apply(o, now)
        except LockedError:
            if last:
                raise
            return False
        for o in batch:
            results.append(o.result)
            self.stored += 1
            if progress:
                progress(o.result)
        return True

    def _apply(self, o: _Outcome, now: datetime) -> None:
        """File one source's outcome (items, moved URL, state and health), from a fresh read
        of its state."""
        c = self.c
        spec, result, fetched = o.spec, o.result, o.fetched
        state = c.store.get_state(spec.id)
        health = dict(state.get("health", {}))
        if result.status == "skipped":
            state["retry_until"] = result.retry_after
            health.update(last_error=result.error, last_error_at=iso(now))
        elif result.status == "error":
            health.update(last_error=result.error, last_error_at=iso(now),
                          failures=int(health.get("failures", 0)) + 1)
        if fetched is not None:
            state.pop("retry_until", None)
            if fetched.retired:
                health.update(retired=True, last_error="gone (410): no longer fetched",
                              last_error_at=iso(now))
            if fetched.new_url and spec.kind == "feed":
                try:  # (under the lock, from a fresh read of config.toml: issue 12)
                    result.notes.append(c.config.move_feed(spec.id, fetched.new_url))
                except UsageError:  # removed from config.toml while it was fetched
                    pass
            try:
                result.new, result.updated, added = store_items(
                    c.store, spec.id, fetched.items, now, fetched.prepared, me=self.me)
            except PlnError as e:  # a damaged file: this source fails, the others go on
                result.status, result.error = "error", e.message
                health.update(last_error=e.message, last_error_at=iso(now),
                              failures=int(health.get("failures", 0)) + 1)
            else:
                if spec.kind == "home" and c.settings.sync_markers:
                    from companion.network.markers import remember

                    remember(c, spec, fetched.items)  # where each entry sits (issue 17)
                health.update(last_success=iso(now), failures=0)
                health["items"] = int(health.get("items", 0)) + added
                state["source"] = dict(fetched.state)
        state["health"] = health
        c.store.put_state(spec.id, state)

    def _counted_states(self, specs: Sequence[SourceSpec]) -> dict[str, dict[str, Any]]:
        """Every source's state, after counting the items the inbox holds for those of
        ``specs`` never counted (companion.source_health): one pass over the inbox, only
        when a source is new, added again, or from an older pln (written in a batch)."""
        from companion.source_health import count_held, needs_count, with_count

        c = self.c
        states = c.store.all_states()
        todo = {s.id for s in specs if needs_count(states.get(s.id, {}))}
        if todo:
            with _batch(c, "pln sync"):
                states = c.store.all_states()  # (fresh, under the lock)
                todo = {s.id for s in specs if needs_count(states.get(s.id, {}))}
                held = (count_held(c.store.iter_items(ordered=False), todo)
                        if c.home.inbox_dir.exists() else {})
                for sid in todo:
                    states[sid] = with_count(states.get(sid, {}), held.get(sid, 0))
                    c.store.put_state(sid, states[sid])
        return states

    def _retain(self, older_than: timedelta, now: datetime) -> None:
        """``retention_days``: prune after the sync. It needs the journal (cited items are
        kept); if the journal cannot be read, nothing is pruned and a warning says why —
        the sync's results still stand (issue 12)."""
        import warnings

        from companion.errors import PlnWarning, StorageError
        from companion.inbox import prune

        try:
            with _batch(self.c, "pln sync"):
                prune(self.c, older_than, now)
        except StorageError as e:
            warnings.warn(PlnWarning(f"retention_days: nothing was pruned — {e.message}"),
                          stacklevel=2)


def _fresh_kinds(specs: Sequence[SourceSpec], states: dict[str, dict[str, Any]]) -> set[str]:
    """The kinds of ``specs`` that have a source never synced (its first fetch parses; one
    that only ever failed is not counted: it is likely to fail again)."""
    return {s.kind for s in specs
            if not (st := states.get(s.id, {})).get("source")
            and not st.get("health", {}).get("failures")}


def prepare(c: Context, specs: Sequence[SourceSpec]) -> None:
    """Start what a sync of ``specs`` needs (parse processes: only when a source was never
    synced) before the caller starts threads of its own, such as a progress bar."""
    from companion.sources.base import prepare_sources

    states = c.store.all_states() if c.home.state_file.exists() else {}
    prepare_sources({s.kind for s in specs}, _fresh_kinds(specs, states))


@contextmanager
def _batch(c: Context, command: str) -> Iterator[None]:
    """Hold the write lock for one batch, then commit and release it (if the caller already
    holds it, as a library user may, only commit)."""
    held = c.store.locked
    if not held:
        c.store.lock(command)
    try:
        yield
    finally:
        if held:
            c.store.flush()
        else:
            c.store.unlock()


@contextmanager
def _few_collections() -> Iterator[None]:
    """No cyclic garbage collection while a sync runs, one when it ends. A cold sync makes a
    few hundred thousand small objects (records, strings) that live until their batch is
    written and hold no cycles: the collector ran ~240 times over them, ~6% of the sync,
    to free a few hundred objects (futures, tracebacks) that can as well wait."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass
class _Outcome:
    """A finished fetch, ready to write: its result and what it fetched (None if it failed)."""

    spec: SourceSpec
    result: SyncResult
    fetched: Any = None
    later: Any = None
    finish: Any = None


def _new_items(o: _Outcome) -> int:
    """How many items a finished fetch brought (what its batch holds in memory for it)."""
    f = o.fetched
    return 0 if f is None else len(f.prepared if f.prepared is not None else f.items)


def _outcome(spec: SourceSpec, t0: datetime, fut: Any, clock: Callable[[], datetime]) -> _Outcome:
    """What a fetch future ended with, as a result (no store access: no lock needed)."""
    from companion.sources.base import RetryLater

    result = SyncResult(spec.id, spec.label, "ok")
    fetched = None
    try:
        fetched = fut.result()
    except RetryLater as e:
        result.status = "skipped"
        result.retry_after = iso(e.until)
        result.error = e.message
    except PlnError as e:
        result.status = "error"
        result.error = e.message
    except Exception as e:  # noqa: BLE001 - a bug in one source must not stop the others
        result.status = "error"
        result.error = f"internal error: {type(e).__name__}: {e}"
    else:
        if fetched.later is not None:
            return _Outcome(spec, result, later=fetched.later, finish=fetched.finish)
        result.notes.extend(fetched.notes)
        if fetched.retired:
            result.status = "retired"
        elif fetched.not_modified:
            result.status = "not_modified"
    result.seconds = (clock() - t0).total_seconds()
    return _Outcome(spec, result, fetched)


_STOP = object()  # put in the results queue by Ctrl-C


class _CtrlC:
    """While entered (in the main thread), the first SIGINT asks the sync to stop: it sets
    ``pressed`` and wakes the collecting loop; a second one interrupts at once."""

    def __init__(self, wake: Any) -> None:
        self.wake = wake
        self.pressed = False
        self._previous: Any = None

    def __enter__(self) -> Self:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        import signal

        self.pressed = True
        self.wake.put(_STOP)  # (SimpleQueue.put may be called from a signal handler)
        signal.signal(signal.SIGINT, self._previous or signal.default_int_handler)

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class _LazyCredentials:
    """credentials.json, read when a source first needs an account: a sync of feeds never
    reads it, and a damaged file fails only the sources that log in (issue 12)."""

    def __init__(self, companion: Context) -> None:
        import threading

        self._c = companion
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:  # (fetch threads)
            creds = self._c.credentials
        return getattr(creds, name)


def store_items(store: TinyDBStore, source_id: str, items: Sequence[ItemData], now: datetime,
                prepared: tuple[Any, ...] | None = None, *, me: Any = None) -> tuple[int, int, int]:
    """Merge fetched items into the inbox; returns (new, updated, added: how many items now
    list this source that did not). ``prepared`` (from ``prepare_new_items``, one per item)
    is filed as it is for an item that is new; ``items`` is only read for the others.
    ``me`` (companion.mine.Me): the statuses of the logged-in accounts arrive read."""
    from companion.decide import item_id, merge
    from companion.mine import Me, arriving

    n_items = len(prepared) if prepared is not None else len(items)
    if not n_items:
        return 0, 0, 0
    me = me if me is not None else Me()
    writes = []
    fresh = []
    new = updated = added = 0
    seen: set[str] = set()
    for n in range(n_items):
        ready = prepared[n] if prepared is not None else None
        key = ready.light["key"] if ready is not None else items[n].key
        iid = ready.id if ready is not None else item_id(key)
        existing = store.get(iid, text=False)
        if existing is not None and existing.get("key") != key:
            iid = item_id(key, taken={iid: existing.get("key", "")})
            existing = store.get(iid, text=False)
            ready = None
        if iid in seen:
            continue
        seen.add(iid)
        if existing is None and ready is not None:
            fresh.append(ready)
            new += 1
            continue
        out = merge(existing, items[n], source_id, now, item_id_=iid)
        if out is None:
            continue
        if existing is None:
            arriving(out[0], me)  # your own statuses arrive read (issue 13.6)
        writes.append(out)
        if existing is None:
            new += 1
        else:
            updated += 1
        if existing is None or source_id not in existing["sources"]:
            added += 1
    store.put_many(writes)
    store.put_prepared(fresh)
    join_stories(store, {rec["link_key"] for rec, _ in writes if rec.get("link_key")}
                 | {p.link_key for p in fresh if p.link_key})
    return new, updated, added + len(fresh)


def join_stories(store: TinyDBStore, keys: set[str]) -> int:
    """Recompute shared_by/story for the stories these link keys name."""
    from companion.decide import join_story

    changes: dict[str, dict[str, Any]] = {}
    for key in keys:
        ids = store.link_ids(key)
        if len(ids) < 2:
            continue
        recs = [r for r in (store.get(i, text=False) for i in ids) if r is not None]
        changes.update(join_story(recs))
    return store.update_many(changes) if changes else 0


class _Finishing:
    """A fetch whose last step (``finish``) runs in the storing thread once ``done`` is."""

    def __init__(self, finish: Callable[[Any], Any], done: Any) -> None:
        self.finish, self.done = finish, done

    def result(self) -> Any:
        return self.finish(self.done)


def prepare_new_items(items: tuple[ItemData, ...], source_id: str, now: datetime) -> tuple[Any, ...]:
    """What the store files for each item if it is new (``SourceContext.prepare``): pure, so
    a feed's parse worker runs it and the storing thread only files the result (issue 3)."""
    from companion.decide import merge
    from companion.store import prepare_put

    return tuple(prepare_put(*merge(None, data, source_id, now)) for data in items)  # type: ignore[misc]
