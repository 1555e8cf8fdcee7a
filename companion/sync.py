"""The sync engine: fetch every source concurrently, store each result as it arrives.

Sources fetch (network, parsing) and never touch the store; this module files what they
return, keeps per-source state and health, and reports one ``SyncResult`` per source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from companion import __version__
from companion.errors import PlnError
from companion.models import ItemData, iso, parse_iso

if TYPE_CHECKING:
    from companion.service import Companion
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
    """One run of `pln sync` for a Companion (its config, credentials and store)."""

    def __init__(self, companion: Companion) -> None:
        self.c = companion

    def run(self, prefixes: list[str] | None = None, progress: ProgressFn | None = None) -> list[SyncResult]:
        """Fetch sources concurrently and store what is new; one result per source.

        A failing source never stops the others (its error is in its result).
        """
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
        ctx = SourceContext(
            settings=settings,
            credentials=c.credentials,
            user_agent=settings.user_agent or f"pln/{__version__} (+https://pypi.org/project/pln/)",
            prepare=prepare_new_items,
        )
        now = c.clock()
        results: list[SyncResult] = []
        states = c.store.all_states()

        def run(spec: SourceSpec) -> Any:
            source = make_source(spec, ctx)
            return source.fetch(states.get(spec.id, {}).get("source", {}), now)

        todo: list[SourceSpec] = []
        for spec in specs:
            state = states.get(spec.id, {})
            health = state.get("health", {})
            if health.get("retired"):
                r = SyncResult(spec.id, spec.label, "retired", error=health.get("last_error"))
                results.append(r)
                if progress:
                    progress(r)
                continue
            until = state.get("retry_until")
            if until and parse_iso(until) > now:
                r = SyncResult(spec.id, spec.label, "skipped", retry_after=until,
                               notes=[f"server asked to wait until {until}"])
                results.append(r)
                if progress:
                    progress(r)
                continue
            todo.append(spec)

        try:
            prepare_sources({s.kind for s in todo})
            with ThreadPoolExecutor(max_workers=max(1, min(settings.workers, len(todo) or 1))) as pool:
                self._collect(pool, todo, run, states, results, now, progress)
        finally:
            close_sources()
        if settings.retention_days > 0:
            c.prune(timedelta(days=settings.retention_days), now)
        c.store.flush()
        order = {s.id: i for i, s in enumerate(specs)}
        results.sort(key=lambda r: order.get(r.source, 0))
        return results

    def _collect(self, pool: Any, todo: list[SourceSpec], run: Callable[[SourceSpec], Any],
                 states: dict[str, dict[str, Any]], results: list[SyncResult], now: datetime,
                 progress: ProgressFn | None) -> None:
        """Submit every fetch and store each result in this thread as it completes. A result
        is dropped once stored: the fetches' bodies and items are never all held at once."""
        import queue

        from companion.sources.base import RetryLater

        c = self.c
        finished: queue.SimpleQueue[tuple[SourceSpec, datetime, Any]] = queue.SimpleQueue()
        for spec in todo:
            t0 = c.clock()
            pool.submit(run, spec).add_done_callback(
                lambda fut, spec=spec, t0=t0: finished.put((spec, t0, fut)))
        waiting = len(todo)
        while waiting:  # each result stored as soon as it arrives
            spec, t0, fut = finished.get()
            waiting -= 1
            state = dict(states.get(spec.id, {}))
            health = dict(state.get("health", {}))
            result = SyncResult(spec.id, spec.label, "ok")
            try:
                fetched = fut.result()
            except RetryLater as e:
                result.status = "skipped"
                result.retry_after = iso(e.until)
                result.error = e.message
                state["retry_until"] = iso(e.until)
                health.update(last_error=e.message, last_error_at=iso(now))
            except PlnError as e:
                result.status = "error"
                result.error = e.message
                health.update(
                    last_error=e.message,
                    last_error_at=iso(now),
                    failures=int(health.get("failures", 0)) + 1,
                )
            except Exception as e:  # noqa: BLE001 - a bug in one source must not stop the others
                result.status = "error"
                result.error = f"internal error: {type(e).__name__}: {e}"
                health.update(
                    last_error=result.error,
                    last_error_at=iso(now),
                    failures=int(health.get("failures", 0)) + 1,
                )
            else:
                if fetched.later is not None:  # finished elsewhere (a parse worker): wait for it
                    fetched.later.add_done_callback(
                        lambda done, spec=spec, t0=t0, finish=fetched.finish: finished.put(
                            (spec, t0, _Finishing(finish, done))))
                    waiting += 1
                    continue
                result.notes.extend(fetched.notes)
                state.pop("retry_until", None)
                if fetched.retired:
                    result.status = "retired"
                    health.update(retired=True, last_error="gone (410): no longer fetched",
                                  last_error_at=iso(now))
                elif fetched.not_modified:
                    result.status = "not_modified"
                if fetched.new_url and spec.kind == "feed":
                    c.config.update_source(spec.id, url=fetched.new_url)
                    result.notes.append(f"moved permanently to {fetched.new_url}")
                result.new, result.updated = store_items(c.store, spec.id, fetched.items, now,
                                                         fetched.prepared)
                health.update(last_success=iso(now), failures=0)
                health["items"] = int(health.get("items", 0)) + result.new
                state["source"] = dict(fetched.state)
            state["health"] = health
            c.store.put_state(spec.id, state)
            result.seconds = (c.clock() - t0).total_seconds()
            results.append(result)
            if progress:
                progress(result)


def store_items(store: TinyDBStore, source_id: str, items: Sequence[ItemData], now: datetime,
                prepared: tuple[Any, ...] | None = None) -> tuple[int, int]:
    """Merge fetched items into the inbox; returns (new, updated). ``prepared`` (from
    ``prepare_new_items``, one per item) is filed as it is for an item that is new;
    ``items`` is only read for the others."""
    from companion.decide import item_id, merge

    n_items = len(prepared) if prepared is not None else len(items)
    if not n_items:
        return 0, 0
    writes = []
    fresh = []
    new = updated = 0
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
        writes.append(out)
        if existing is None:
            new += 1
        else:
            updated += 1
    store.put_many(writes)
    store.put_prepared(fresh)
    join_stories(store, {rec["link_key"] for rec, _ in writes if rec.get("link_key")}
                 | {p.link_key for p in fresh if p.link_key})
    return new, updated


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
