"""The home timeline's read position, shared with other apps (issue 17, ``sync_markers``).

Mastodon keeps one read marker per account and timeline (``/api/v1/markers``: ``home`` and
``notifications`` only). With ``sync_markers = true``:

* **pln -> server.** Marking home items read in pln (``pln read``, ``pln show``, ``pln open``,
  ``pln read --all``) moves the home marker to the newest of them, so another app resumes
  there. It never moves the marker back: pln reads the marker first and leaves it when it is
  already at or past that point. A 409 (another app wrote at the same moment) is answered by
  reading the marker again and retrying once.
* **server -> pln.** At each sync of a ``home`` source, a marker that another app moved
  forward marks read, in pln, every home item at or before it that arrived since the marker
  pln last saw (items you marked unread by hand before that stay unread).

**"Older" is the server's timeline order, not the ids.** Status ids are opaque strings (issue
4) and are never compared. Each home entry's position is its own ``created_at`` as the server
sent it (full precision; a boost's own time, not the boosted post's), recorded at sync with
the entry's id; Mastodon orders the home timeline by ids it derives from those times, so
ordering by them is ordering as the server does. The marker's status is placed by its
recorded position, or else by its ``created_at`` from ``GET /api/v1/statuses/:id``. Entries at
the very same instant as the marker count as read. Home items synced before ``sync_markers``
was turned on have no recorded position: their publication date stands in for it.

The ``notifications`` marker is left alone: pln's ``mentions`` are a subset of notifications,
and moving that marker would hide the rest in other apps.

A server without the markers API (404) is reported once and not asked again for a day; a
marker that could not be sent (network, conflict twice) is kept and sent at the next sync.
Nothing pln stores depends on any of this: read state stays in the inbox.

State lives in ``markers.json`` in the data directory (written atomically, under the write
lock every caller holds): per account, the positions of the newest ``KEEP`` home entries,
the marker as pln last saw or set it (``known``) and one not yet sent (``pending``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from companion.storage_io import atomic_write_bytes

if TYPE_CHECKING:
    from companion.context import Context
    from companion.models import ItemData
    from companion.network.api import InstanceAPI
    from companion.specs import SourceSpec

MARKERS_FILE = "markers.json"
KEEP = 3000  # home entries whose position is remembered (older ones never move a marker)
RECHECK = timedelta(days=1)  # a server without markers is asked again after this
FALLBACK_DAYS = 30  # how far back unpositioned home items are marked by a marker's date

class SyncOutcome(Protocol):
    """What ``after_sync`` reads of a source's sync result (companion.sync.SyncResult, which
    sits above this module: the sync engine calls it)."""

    source: str
    status: str
    notes: list[str]


Position = tuple[str, str]  # (entry id, entry created_at ISO 8601, full precision)


# ----- pure rules ---------------------------------------------------------------------------------


def at(text: str) -> datetime:
    """A recorded instant as an aware datetime (compared as times, never as strings)."""
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def positions_of(items: Iterable[ItemData]) -> dict[str, Position]:
    """Item key -> (entry id, entry time) for the items a home fetch brought."""
    out: dict[str, Position] = {}
    for item in items:
        extra = dict(item.extra)
        if extra.get("entry_id") and extra.get("entry_at"):
            out[item.key] = (str(extra["entry_id"]), str(extra["entry_at"]))
    return out


def merged(old: Mapping[str, Sequence[str]], new: Mapping[str, Position],
           keep: int = KEEP) -> dict[str, Position]:
    """Old and new positions (a later entry of the same item wins), the newest ``keep``."""
    allpos: dict[str, Position] = {k: (str(v[0]), str(v[1])) for k, v in old.items()}
    for k, pos in new.items():
        if k not in allpos or at(pos[1]) >= at(allpos[k][1]):
            allpos[k] = pos
    if len(allpos) > keep:
        newest = sorted(allpos.items(), key=lambda kv: (at(kv[1][1]), kv[1][0]), reverse=True)
        allpos = dict(newest[:keep])
    return allpos


def newest(positions: Mapping[str, Sequence[str]], keys: Iterable[str]) -> Position | None:
    """The position furthest along the timeline among these item keys (None: none is home)."""
    best: Position | None = None
    for k in keys:
        pos = positions.get(k)
        if pos is not None and (best is None or at(pos[1]) > at(best[1])):
            best = (str(pos[0]), str(pos[1]))
    return best


def position_by_id(positions: Mapping[str, Sequence[str]], entry_id: str) -> Position | None:
    """The recorded position of the home entry with this id, if pln saw it."""
    for pos in positions.values():
        if str(pos[0]) == entry_id:
            return str(pos[0]), str(pos[1])
    return None


def read_up_to(positions: Mapping[str, Sequence[str]], upto: str, after: str | None) -> list[str]:
    """Keys of the home items at or before ``upto`` and after ``after`` (None: all before)."""
    hi = at(upto)
    lo = at(after) if after else None
    return sorted(k for k, pos in positions.items()
                  if at(pos[1]) <= hi and (lo is None or at(pos[1]) > lo))


# ----- markers.json -------------------------------------------------------------------------------


def _path(c: Context) -> Path:
    return c.home.data_dir / MARKERS_FILE


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Per-account marker state; {} when missing or unreadable (it is rebuilt as pln goes)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    accounts = data.get("accounts") if isinstance(data, dict) else None
    return {k: v for k, v in accounts.items() if isinstance(v, dict)} if isinstance(accounts, dict) else {}


def save(path: Path, accounts: Mapping[str, Mapping[str, Any]]) -> None:
    atomic_write_bytes(path, orjson.dumps({"version": 1, "accounts": accounts},
                                          option=orjson.OPT_SORT_KEYS))


# ----- hooks: sync ------------------------------------------------------------------------------


def _account_name(c: Context, spec: SourceSpec) -> str | None:
    from companion.errors import PlnError

    try:
        return c.credentials.account(spec.account).name
    except PlnError:  # no account: the home source itself reports that
        return None


def remember(c: Context, spec: SourceSpec, items: Sequence[ItemData]) -> None:
    """After a home source's items are stored: record where each entry sits (no network)."""
    new = positions_of(items)
    name = _account_name(c, spec)
    if not new or name is None:
        return
    path = _path(c)
    accounts = load(path)
    st = accounts.setdefault(name, {})
    st["positions"] = merged(st.get("positions") or {}, new)
    save(path, accounts)


def after_sync(c: Context, specs: Sequence[SourceSpec], results: Sequence[SyncOutcome],
               now: datetime) -> None:
    """For each home source synced: send a marker left pending, then follow a marker another
    app moved forward. What happened is a note on the home source's result."""
    ok = {r.source: r for r in results if r.status in ("ok", "not_modified")}
    done: set[str] = set()
    for spec in specs:
        result = ok.get(spec.id)
        name = _account_name(c, spec) if spec.kind == "home" and result is not None else None
        if result is None or name is None or name in done:
            continue
        done.add(name)
        try:
            result.notes.extend(_sync_account(c, spec, name, now))
        except Exception as e:  # noqa: BLE001 - the sync succeeded; never lose it over a marker
            from companion.errors import PlnError

            why = e.message if isinstance(e, PlnError) else f"{type(e).__name__}: {e}"
            result.notes.append(f"read marker not synced: {why}")


def _sync_account(c: Context, spec: SourceSpec, name: str, now: datetime) -> list[str]:
    from companion.network.api import Unsupported

    path = _path(c)
    accounts = load(path)
    st = accounts.setdefault(name, {})
    if _skipping(st, now):
        return []
    notes: list[str] = []
    account = c.credentials.account(name)
    with _api(c, account) as api:
        try:
            if st.get("pending"):
                pending = st["pending"]
                notes.extend(_push(api, st, (str(pending[0]), str(pending[1]))))
            notes.extend(_pull(c, api, st, spec, now))
            st.pop("unsupported", None)
            st.pop("warned", None)
        except Unsupported:
            notes.extend(_unsupported(st, api.host, now))
    save(path, accounts)
    return notes


def _pull(c: Context, api: InstanceAPI, st: dict[str, Any], spec: SourceSpec,
          now: datetime) -> list[str]:
    """Follow a marker another app moved forward: mark read what it passed."""
    marker = api.home_marker()
    known = st.get("known")
    if marker is None or (known and str(known[0]) == marker):
        return []
    positions = st.get("positions") or {}
    pos = position_by_id(positions, marker) or _locate(api, marker)
    if pos is None:
        st["known"] = [marker, None]
        return [f"the home read marker names status {marker}, which {api.host} no longer has"]
    before = str(known[1]) if known and known[1] else None
    if before is not None and at(pos[1]) <= at(before):
        st["known"] = list(pos)  # moved back elsewhere: pln's read state stays as it is
        return []
    keys = set(read_up_to(positions, pos[1], before))
    n = _mark_read(c, spec.id, keys, set(positions), pos[1], before, now)
    st["known"] = list(pos)
    if not n:
        return []
    return [f"read marker set in another app: {n} older home item{'s' if n != 1 else ''} marked read"]


def _locate(api: InstanceAPI, status_id: str) -> Position | None:
    """Where a status pln never saw sits: its own ``created_at``."""
    from companion.sources.mastodon_items import as_datetime

    st = api.status(status_id)
    when = as_datetime(st.get("created_at")) if st else None
    return (status_id, when.isoformat()) if when else None


def _mark_read(c: Context, home_id: str, keys: set[str], positioned: set[str], upto: str,
               after: str | None, now: datetime) -> int:
    """Mark read the stored items with these keys, and the home items without a recorded
    position published in (after, upto]."""
    from companion.decide import item_id
    from companion.models import iso

    store = c.store
    changes: dict[str, dict[str, Any]] = {}
    for key in keys:
        rec = store.get(item_id(key), text=False)
        if rec is not None and rec.get("key") == key and not rec.get("read"):
            changes[rec["id"]] = {"read": True}
    hi = at(upto)
    lo = at(after) if after else hi - timedelta(days=FALLBACK_DAYS)
    lo_iso, hi_iso = iso(lo), iso(hi)
    for rec in store.iter_items(since=lo, until=hi + timedelta(seconds=1),
                                where=lambda r: home_id in r["sources"] and not r.get("read")
                                and r.get("key") not in positioned):
        if lo_iso < rec["published"] <= hi_iso:
            changes[rec["id"]] = {"read": True}
    return store.update_many(changes) if changes else 0


# ----- hooks: triage -----------------------------------------------------------------------------


def after_read(c: Context, item_ids: Iterable[str]) -> None:
    """Items were just marked read in pln: move each account's home marker to the newest of
    them, if that is further than the marker. Problems become notices (companion.notices)."""
    from companion.errors import PlnError
    from companion.network.api import Unsupported
    from companion.notices import notice

    path = _path(c)
    accounts = load(path)
    if not accounts:
        return  # no home entry was ever recorded
    keys = []
    for i in item_ids:
        rec = c.store.get_light(i)
        if rec is not None and rec.get("key"):
            keys.append(str(rec["key"]))
    now = c.clock()
    changed = False
    for name, st in accounts.items():
        cand = newest(st.get("positions") or {}, keys)
        known = st.get("known")
        if cand is None or (known and known[1] and at(cand[1]) <= at(str(known[1]))):
            continue
        if _skipping(st, now):
            continue
        changed = True
        try:
            account = c.credentials.account(name)
        except PlnError:
            continue
        try:
            with _api(c, account) as api:
                try:
                    for n in _push(api, st, cand):
                        notice(n)
                    st.pop("unsupported", None)
                    st.pop("warned", None)
                except Unsupported:
                    for n in _unsupported(st, api.host, now):
                        notice(n)
        except PlnError as e:
            st["pending"] = list(cand)
            notice(f"could not set the home read marker on {account.instance}: {e.message}; "
                   "pln tries again at the next sync")
    if changed:
        save(path, accounts)


def _push(api: InstanceAPI, st: dict[str, Any], cand: Position) -> list[str]:
    """Move the server's marker to ``cand`` unless it is already there or further."""
    from companion.network.api import Conflict

    positions = st.get("positions") or {}
    for _ in range(2):  # a 409: read again, retry once
        marker = api.home_marker()
        if marker == cand[0]:
            break
        if marker is not None:
            pos = position_by_id(positions, marker) or _locate(api, marker)
            if pos is not None and at(pos[1]) >= at(cand[1]):
                st["known"] = list(pos)  # another app is further along: leave it there
                st.pop("pending", None)
                return []
        try:
            api.set_home_marker(cand[0])
        except Conflict:
            continue
        break
    else:
        st["pending"] = list(cand)
        msg = (f"{api.host} reported a conflict twice while pln set the home read marker; "
               "pln tries again at the next sync")
        return [msg]
    st["known"] = list(cand)
    st.pop("pending", None)
    return []


def _skipping(st: Mapping[str, Any], now: datetime) -> bool:
    since = st.get("unsupported")
    return bool(since) and now - at(str(since)) < RECHECK


def _unsupported(st: dict[str, Any], host: str, now: datetime) -> list[str]:
    st["unsupported"] = now.isoformat()
    st.pop("pending", None)  # nothing to send it to; read state is in pln either way
    if st.get("warned"):
        return []
    st["warned"] = True
    msg = (f"{host} has no read markers API (404): your read position is kept in pln only "
           "(set sync_markers = false to stop trying)")
    return [msg]


def _api(c: Context, account: Any) -> Any:
    from companion.network.api import instance
    from companion.network.verbs import user_agent

    return instance(account, timeout=c.settings.timeout, user_agent=user_agent(c))
