"""The network verbs behind `pln discover`, `pln follow`, `pln unfollow` and `pln following`:
the thin layer that gathers data (inbox, sources, the account's instance, websites) and hands
it to the pure parts (``discover``, ``websites``). No terminal here (STYLE.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from companion import __version__
from companion.errors import AuthError, PlnError, UsageError
from companion.models import iso, parse_iso
from companion.network.discover import (
    Discovery,
    Following,
    NetworkData,
    Person,
    SiteCheck,
    Suggested,
)
from companion.specs import ACCOUNT, TAG, SourceSpec, parse_spec
from companion.storage_io import atomic_write_bytes

if TYPE_CHECKING:
    from companion.context import Context
    from companion.credentials import Account
    from companion.network.api import InstanceAPI

SITES_FILE = "network.json"  # feed autodiscovery results per website, reused for SITE_TTL
SITE_TTL = timedelta(days=7)
MAX_SITE_CHECKS = 30  # websites fetched per `pln discover`; the rest on the next run


def user_agent(c: Context) -> str:
    return c.settings.user_agent or f"pln/{__version__} (+https://pypi.org/project/pln/)"


def _instance(c: Context, account: Account) -> Any:
    from companion.network.api import instance

    return instance(account, timeout=c.settings.timeout, user_agent=user_agent(c))


def person_of(api: InstanceAPI, found: dict[str, Any]) -> Person:
    return Person(handle=api.handle_of(found), name=str(found.get("display_name") or "").strip(),
                  url=str(found.get("url") or ""))


# ----- follow / unfollow -------------------------------------------------------------------------


@dataclass
class FollowOutcome:
    """What `pln follow` / `pln unfollow` did, and how pln syncs (or could sync) the target."""

    kind: str  # "person" | "tag"
    target: str  # @user@host | #tag
    state: str  # following | requested | already | unfollowed | not_following
    account: str  # the pln account name
    instance: str
    spec: str  # the pln SPEC that syncs it (`pln source add …`)
    source: SourceSpec | None = None  # a pln source that is exactly that
    covered_by: list[SourceSpec] = field(default_factory=list)  # sources that bring it anyway


def parse_target(text: str) -> tuple[str, str, str | None]:
    """``@user@host`` -> ("person", "@user@host", None); ``#tag[@host]`` -> ("tag", tag, host)."""
    raw = text.strip()
    if raw.startswith(("http://", "https://")):
        raise UsageError(f"{raw!r} is a web address: follow a feed with `pln source add {raw}`")
    if not raw.startswith(("@", "#")):
        raise UsageError(f"{raw!r}: give a person as @user@host or a hashtag as '#tag'")
    spec = parse_spec(raw)
    if spec.kind == ACCOUNT:
        return "person", spec.target, None
    return "tag", spec.target, spec.host


def _account_sources(c: Context, acct: Account, kind: str) -> list[SourceSpec]:
    default = c.credentials.default_name
    return [s for s in c.config.sources if s.kind == kind
            and (s.account or default) == acct.name]


def _match_sources(c: Context, acct: Account, kind: str, target: str,
                   local_hosts: set[str]) -> tuple[SourceSpec | None, list[SourceSpec]]:
    """The pln source that is exactly this person/hashtag, and those that bring it anyway."""
    want = target.casefold()
    default = c.credentials.default_name
    if kind == "person":
        exact = next((s for s in c.config.sources if s.kind == ACCOUNT and s.target.casefold() == want),
                     None)
        return exact, _account_sources(c, acct, "home")
    exact = next((s for s in c.config.sources if s.kind == TAG and s.target.casefold() == want
                  and ((s.host is None and (s.account or default) == acct.name)
                       or (s.host or "") in local_hosts)), None)
    return exact, _account_sources(c, acct, "followed-tags") + _account_sources(c, acct, "home")


def follow(c: Context, text: str, *, account: str | None = None, undo: bool = False) -> FollowOutcome:
    """Follow (``undo``: unfollow) a person or hashtag on the logged-in account's instance."""
    from companion.network.api import FOLLOWED_TAGS, Unsupported, sid

    kind, target, host = parse_target(text)
    acct = c.credentials.account(account)
    with _instance(c, acct) as api:
        if kind == "tag" and host and host.lower() not in api.local_hosts:
            raise UsageError(f"followed hashtags live on your own instance ({api.host}): use "
                             f"`pln {'unfollow' if undo else 'follow'} '#{target}'`")
        if kind == "person":
            if target.casefold() in {a.handle.casefold() for a in c.credentials.accounts}:
                raise UsageError(f"{target} is one of your own accounts")
            found = api.resolve(target)
            target = person_of(api, found).handle or target
            aid = sid(found.get("id"))
            rel = api.relationship(aid)
            was: str | None = None  # unknown: the server would not say
            if rel is not None:
                was = "following" if rel.get("following") else "requested" if rel.get("requested") else ""
            if undo:
                state = "not_following" if was == "" else "unfollowed"
                if was != "":
                    api.unfollow(aid)
            elif was:
                state = "already" if was == "following" else "requested"
            else:
                now = api.follow(aid)
                state = "requested" if now.get("requested") and not now.get("following") else "following"
            spec = target
        else:
            try:
                info = api.followed_tag_state(target)
                if undo and info is False:
                    state = "not_following"
                elif undo:
                    api.unfollow_tag(target)
                    state = "unfollowed"
                elif info is True:
                    state = "already"
                else:
                    api.follow_tag(target)
                    state = "following"
            except Unsupported as e:
                raise Unsupported(
                    f"{api.host} does not support following hashtags (no followed hashtags API); "
                    f"nothing changed. pln can still sync #{target} from it: "
                    f"`pln source add '#{target}'`", feature=FOLLOWED_TAGS) from e
            target = f"#{target}"
            spec = target
        exact, covered = _match_sources(c, acct, kind, target.lstrip("#"), api.local_hosts)
        return FollowOutcome(kind=kind, target=target, state=state, account=acct.name,
                             instance=acct.instance, spec=spec, source=exact,
                             covered_by=[s for s in covered if s is not exact])


def add_matching_source(c: Context, outcome: FollowOutcome, *,
                        topics: Sequence[str] = ()) -> SourceSpec:
    """Add the pln source that syncs what was just followed (under the write lock)."""
    account = outcome.account if outcome.kind == "tag" else None
    from companion.sources_registry import add_source

    with c.writing("pln follow"):
        return add_source(c, outcome.spec, topics=list(topics), account=account)


def remove_matching_source(c: Context, outcome: FollowOutcome) -> SourceSpec | None:
    """Remove the pln source of what was just unfollowed, if there is one."""
    if outcome.source is None:
        return None
    from companion.sources_registry import remove_source

    with c.writing("pln unfollow"):
        return remove_source(c, outcome.source.id)


# ----- following ---------------------------------------------------------------------------------


@dataclass
class FollowingList:
    account: str
    handle: str
    instance: str
    people: list[tuple[Person, list[SourceSpec]]]  # whom, and the pln sources that sync them
    tags: list[tuple[str, list[SourceSpec]]] | None  # None: the server has no followed hashtags
    complete: bool = True
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape (fields may be added, never renamed)."""
        return {
            "account": self.account,
            "handle": self.handle,
            "instance": self.instance,
            "people": [{**p.as_dict(), "synced": bool(by), "synced_by": [s.id for s in by]}
                       for p, by in self.people],
            "hashtags": None if self.tags is None else [
                {"tag": t, "synced": bool(by), "synced_by": [s.id for s in by]}
                for t, by in self.tags],
            "complete": self.complete,
            "notes": list(self.notes),
        }


def following(c: Context, *, account: str | None = None) -> FollowingList:
    """Whom and which hashtags the account follows, and which pln sources sync each."""
    from companion.network.api import Unsupported

    acct = c.credentials.account(account)
    notes: list[str] = []
    with _instance(c, acct) as api:
        rows, complete = api.following()
        people = sorted((person_of(api, r) for r in rows), key=lambda p: p.handle.casefold())
        try:
            names, tags_complete = api.followed_tags()
            tags: list[str] | None = sorted(set(names))
            complete = complete and tags_complete
        except Unsupported:
            tags = None
            notes.append(f"{api.host} has no followed hashtags (its API answered 404): only "
                         "people are listed")
        local = api.local_hosts
    if not complete:
        notes.append(f"{acct.instance} listed fewer accounts than it says you follow, or "
                     "stopped paging: some may be missing")
    out_people = []
    for p in people:
        exact, covered = _match_sources(c, acct, "person", p.handle, local)
        out_people.append((p, ([exact] if exact else []) + covered))
    out_tags = None
    if tags is not None:
        out_tags = []
        for t in tags:
            exact, covered = _match_sources(c, acct, "tag", t, local)
            out_tags.append((t, ([exact] if exact else []) + covered))
    return FollowingList(account=acct.name, handle=acct.handle, instance=acct.instance,
                         people=out_people, tags=out_tags, complete=complete, notes=notes)


# ----- discover ----------------------------------------------------------------------------------


def discover(c: Context, *, since: datetime, account: str | None = None,
             progress: Callable[[str], None] | None = None) -> Discovery:
    """Suggestions with evidence (companion.network.discover) from the inbox of the period,
    the sources, and — when an account is logged in — its follows, its instance's suggestions
    and the feeds on followed people's websites."""
    from companion.network.discover import discover as compute

    now = c.clock()
    notes: list[str] = []
    records = (list(c.store.iter_items(since=since, until=now + timedelta(seconds=1)))
               if c.home.inbox_dir.exists() else [])
    following_: Following | None = None
    suggested: list[Suggested] = []
    sites: list[SiteCheck] = []
    acct: Account | None = None
    try:
        acct = c.credentials.account(account)
    except AuthError:
        if account is not None:
            raise
        notes.append("no account logged in: whom you follow on Mastodon, your instance's "
                     "suggestions and your follows' blogs are left out — `pln login` to add them")
    if acct is not None:
        following_, suggested, profiles = _from_instance(c, acct, notes)
        sites = _check_sites(c, profiles, now, notes, progress)
    data = NetworkData(records=records, sources=c.config.sources,
                       me=frozenset(a.handle for a in c.credentials.accounts if a.handle),
                       following=following_, suggested=suggested, sites=sites)
    return compute(data, since=since, until=now, notes=notes)


def _from_instance(c: Context, acct: Account, notes: list[str]
                   ) -> tuple[Following | None, list[Suggested], list[tuple[Person, Any]]]:
    """Follows (people and hashtags), suggestions and followed profiles; what the server
    cannot give becomes a note, never an error."""
    from companion.network.api import Unsupported

    following_: Following | None = None
    suggested: list[Suggested] = []
    profiles: list[tuple[Person, Any]] = []
    try:
        with _instance(c, acct) as api:
            rows, complete = api.following()
            if not complete:
                notes.append(f"{api.host} listed only part of whom you follow")
            profiles = [(person_of(api, r), r) for r in rows]
            tags: tuple[str, ...] | None
            try:
                tags = tuple(api.followed_tags()[0])
            except Unsupported:
                tags = None
                notes.append(f"{api.host} has no followed hashtags: your hashtags are your "
                             "#tag sources")
            following_ = Following(people=tuple(p for p, _ in profiles), tags=tags)
            try:
                suggested = [Suggested(person_of(api, a), why) for a, why in api.suggestions()]
            except Unsupported:
                notes.append(f"{api.host} offers no follow suggestions")
    except PlnError as e:
        notes.append(f"could not ask {acct.instance}: {e.message}; suggestions come from the "
                     "inbox alone")
    return following_, suggested, profiles


def _load_sites(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    sites = data.get("sites") if isinstance(data, dict) else None
    return {k: v for k, v in sites.items() if isinstance(v, dict)} if isinstance(sites, dict) else {}


def _check_sites(c: Context, profiles: list[tuple[Person, Any]], now: datetime,
                 notes: list[str], progress: Callable[[str], None] | None) -> list[SiteCheck]:
    """Feed autodiscovery (the same as `pln source add URL`) on followed people's websites,
    a few at a time; results are kept for SITE_TTL in network.json."""
    from concurrent.futures import ThreadPoolExecutor

    from companion.network.websites import websites

    wanted: list[tuple[Person, str, str]] = []
    for person, raw in profiles:
        own = {person.handle.rpartition("@")[2]}
        for w in websites(raw.get("fields") or (), own_hosts=own):
            wanted.append((person, w.label, w.url))
    path = c.home.data_dir / SITES_FILE
    cache = _load_sites(path)
    fresh = {u: v for u, v in cache.items()
             if isinstance(v.get("checked"), str) and now - parse_iso(v["checked"]) < SITE_TTL}
    todo = list(dict.fromkeys(u for _, _, u in wanted if u not in fresh))
    if len(todo) > MAX_SITE_CHECKS:
        notes.append(f"checked {MAX_SITE_CHECKS} of {len(todo)} websites for feeds; run "
                     "`pln discover` again for the rest")
        todo = todo[:MAX_SITE_CHECKS]
    if todo:
        from companion.sources.feed import discover as find_feed

        settings, ua = c.settings, user_agent(c)

        def check(url: str) -> dict[str, Any]:
            if progress:
                progress(url)
            try:
                feed, title, _ = find_feed(url, settings, ua)
                return {"feed": feed, "title": title or "", "checked": iso(now)}
            except PlnError as e:
                return {"feed": None, "error": e.message, "checked": iso(now)}

        with ThreadPoolExecutor(max_workers=max(1, min(settings.workers, len(todo)))) as pool:
            for url, got in zip(todo, pool.map(check, todo), strict=True):
                fresh[url] = got
        c.home.data_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, orjson.dumps({"version": 1, "sites": fresh},
                                              option=orjson.OPT_SORT_KEYS))
    return [SiteCheck(person=p, label=label, website=url, feed=fresh[url].get("feed"),
                      title=str(fresh[url].get("title") or ""))
            for p, label, url in wanted if url in fresh]
