"""The sources registry: what the user follows (config.toml) and each source's health.

Add (checked with its server, feeds discovered from web pages), list, remove, OPML import and
export, and IMAP passwords. Verbs are functions of a ``Context`` (companion.context).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from companion.context import Context
from companion.errors import PlnError, UsageError
from companion.read_models import SourceView
from companion.specs import IMAP, MAIL_KINDS, NEEDS_LOGIN, TAG, SourceSpec, parse_spec

if TYPE_CHECKING:
    from companion.credentials import Credentials


def add_source(
    c: Context,
    spec_text: str,
    *,
    name: str | None = None,
    topics: list[str] | tuple[str, ...] = (),
    account: str | None = None,
    senders: list[str] | tuple[str, ...] = (),
    list_ids: list[str] | tuple[str, ...] = (),
    password: str | None = None,
    read_password: Callable[[str], str] | None = None,
) -> SourceSpec:
    """Validate a SPEC and append it to config.toml (refusing duplicates).

    Mail sources take ``senders``/``list_ids`` filters; an IMAP one needs its password
    (``password``, else the one stored for that login, else ``read_password(prompt)``),
    checked with the server before anything is saved."""
    spec = parse_spec(spec_text, name=name, topics=topics, account=account, senders=senders,
                      list_ids=list_ids)
    if spec.kind in MAIL_KINDS:
        _check_mail(c, spec, password, read_password)
    needs_account = spec.kind in NEEDS_LOGIN or (spec.kind == TAG and not spec.host)
    if account is not None or needs_account:
        creds = c.credentials
        if account is not None and not creds.has(account):
            known = ", ".join(a.name for a in creds.accounts) or "none"
            raise UsageError(
                f"no account named {account!r} (logged in: {known}) — run `pln login` first"
            )
        if needs_account and account is None:
            default = creds.default_name
            if default is None:
                what = f"#{spec.target}" if spec.kind == TAG else spec.spec
                hint = (
                    f"; or name a server: #{spec.target}@mastodon.social"
                    if spec.kind == TAG
                    else ""
                )
                raise UsageError(
                    f"{what} needs a logged-in account — run `pln login https://your.instance`"
                    f" first{hint}"
                )
            spec = parse_spec(spec_text, name=name, topics=topics, account=default)
    if spec.kind == "feed":  # (network: not under the lock, a sync may be writing)
        spec = _discover_feed(c, spec, name=name, topics=topics, account=account)
    elif _is_new(c, spec):
        from companion.sources.checks import check_source, needs_check

        if needs_check(spec):  # the server says whether it exists (issue 13)
            spec.extra["notes"] = check_source(
                spec, _credentials_or_none(c, spec), c.settings_or_default(), c.user_agent())
    with c.writing("pln source add"):
        c.ensure_config(starter=False)
        return c.config.add_source(spec)


def _is_new(c: Context, spec: SourceSpec) -> bool:
    """Not followed yet (a duplicate is refused without asking any server)."""
    return not (c.home.config_file.exists() and c.config.find(spec.canonical))


def _credentials_or_none(c: Context, spec: SourceSpec) -> Credentials | None:
    """The credentials to check ``spec`` with: required when it names an account; else
    whatever is logged in, and None when nothing readable is (a public source needs none)."""
    if spec.account:
        return c.credentials
    try:
        return c.credentials
    except PlnError:
        return None


def _check_mail(c: Context, spec: SourceSpec, password: str | None,
                read_password: Callable[[str], str] | None) -> None:
    """A mailbox to add must be there (files) or accept the login (IMAP, whose password
    is then kept in credentials.json); UsageError otherwise, nothing saved."""
    if c.home.config_file.exists() and c.config.find(spec.canonical) is not None:
        return  # already followed: config.add_source says so
    if spec.kind != IMAP:
        from companion.sources.mail import check_path

        check_path(spec)
        return
    set_mail_password(c, spec, password, read_password)


def set_mail_password(c: Context, spec: SourceSpec | str, password: str | None,
                      read_password: Callable[[str], str] | None = None, *,
                      reuse: bool = True) -> SourceSpec:
    """Check an IMAP source's password with its server, then keep it (credentials.json,
    0600, one per login). ``spec``: the source or an id prefix. The password is
    ``password``, else (``reuse``) the one stored for the login, else
    ``read_password(prompt)``."""
    from companion.sources.imap import check_login
    from companion.specs import imap_address

    if isinstance(spec, str):
        spec = c.find_source(spec)
        if spec.kind != IMAP:
            raise UsageError(f"{spec.spec} is not an IMAP source: it has no password")
    addr = imap_address(spec)
    c.home.ensure()
    stored = c.credentials.mail_password(addr.login)
    if password is None and reuse:
        password = stored
    if password is None:
        if read_password is None:
            raise UsageError(f"{spec.spec} needs the IMAP password: pass --password - to "
                             "read it from standard input")
        password = read_password(f"IMAP password for {addr.user} on {addr.host}")
    if not password:
        raise UsageError("empty password; nothing changed")
    check_login(spec, password, float(c.settings_or_default().timeout))
    if password != stored:
        c.credentials.put_mail_password(addr.login, password)
    return spec


def _discover_feed(
    c: Context,
    spec: SourceSpec,
    *,
    name: str | None,
    topics: list[str] | tuple[str, ...],
    account: str | None,
) -> SourceSpec:
    """Check a feed URL over the network; a web page is replaced by the feed it names
    (issue 3: autodiscovery). Notes for the user are in ``spec.extra["notes"]``."""
    if c.home.config_file.exists() and c.config.find(spec.canonical) is not None:
        return spec  # already followed: config.add_source says so, no network needed
    from companion.sources.feed import discover

    feed_url, title, notes = discover(spec.target, c.settings_or_default(), c.user_agent())
    if feed_url != spec.target or (name is None and title):
        spec = parse_spec(feed_url, name=name or title or None, topics=topics, account=account)
    spec.extra["notes"] = list(notes)
    return spec


def list_sources(c: Context) -> list[SourceView]:
    """Every configured source with its health (last success/error, failures, the items
    the inbox holds from it, ``retry_until`` while a server asked to wait)."""
    states = c.store.all_states() if c.home.state_file.exists() else {}
    return [SourceView.from_state(s, states.get(s.id, {})) for s in c.config.sources]


def remove_source(c: Context, prefix: str) -> SourceSpec:
    """Stop following a source; its items stay in the inbox."""
    spec = c.find_source(prefix)
    c.config.remove_source(spec.id)
    c.store.drop_state(spec.id)
    if spec.kind == IMAP:  # the last source of a login takes its password along
        from companion.specs import imap_address

        login = imap_address(spec).login
        if not any(s.kind == IMAP and imap_address(s).login == login
                   for s in c.config.sources):
            c.credentials.remove_mail_password(login)
    return spec


def import_opml(c: Context, path: Path) -> tuple[list[SourceSpec], list[tuple[str, str]]]:
    """Add every subscription of an OPML file; returns (added, [(spec, why skipped)])."""
    from companion.opml import parse_opml

    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    entries = parse_opml(data)
    c.ensure_config(starter=False)
    added: list[SourceSpec] = []
    skipped: list[tuple[str, str]] = []
    known = {s.canonical for s in c.config.sources}
    for entry in entries:
        try:
            spec = parse_spec(entry.spec, name=entry.title or None, topics=entry.topics)
        except UsageError as e:
            skipped.append((entry.spec, e.message))
            continue
        if spec.canonical in known:
            skipped.append((entry.spec, "already followed"))
            continue
        known.add(spec.canonical)
        added.append(spec)
    return c.config.add_sources(added), skipped


def export_opml(c: Context) -> tuple[str, list[SourceSpec]]:
    """OPML for every source that other readers can follow, plus those left out."""
    from companion.opml import export_opml as to_opml

    states = c.store.all_states() if c.home.state_file.exists() else {}
    return to_opml(c.config.sources, now=c.clock(),
                   states={k: v.get("source", {}) for k, v in states.items()})
