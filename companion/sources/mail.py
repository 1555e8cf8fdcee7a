"""Newsletters from local mail files (issue 18): a Maildir (kept by mbsync, offlineimap,
notmuch, …) or an mbox file, read with the standard ``mailbox`` module.

Incremental by message: the saved state remembers every message already seen (a Maildir by
its file key and Message-ID, an mbox by Message-ID), so each sync turns only messages it has
not seen into items. An item is keyed by its Message-ID, so a message seen twice (two
copies, a renamed file) is still one item. The mailbox is only read: nothing is moved,
flagged or rewritten, except that a Maildir source with ``mark_seen = true`` flags the
messages it read as seen (``:2,S``), as a mail client would. An mbox is never written.

The first sync is bounded like a Mastodon one (``first_sync_limit`` newest messages from the
last ``first_sync_days`` days); older messages are remembered as seen, not imported.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from companion.errors import SourceError, UsageError
from companion.models import ItemData
from companion.sources.base import FetchResult, SourceContext
from companion.specs import MAILDIR, SourceSpec
from companion.words import plural

# What normalizing a broken message may raise; such a message is skipped and counted.
_BAD_MESSAGE = (ValueError, TypeError, LookupError, UnicodeError, AttributeError, IndexError,
                KeyError, AssertionError)


def mid_hash(message_id: str, fallback: str) -> str:
    """A short stable token for a message in the saved state (Message-ID, else ``fallback``)."""
    basis = message_id or f"no-id:{fallback}"
    return hashlib.blake2b(basis.encode("utf-8", "replace"), digest_size=8).hexdigest()


@dataclass
class Picker:
    """Turns the messages a fetch found into items: filters, dedupe by Message-ID, and the
    bounds of a first sync. Shared by the Maildir, mbox and IMAP sources.

    ``offer`` reads only the headers; a message is turned into an item in ``result``, once
    the first sync's bounds are known, so a first sync of a mailbox with years of mail
    parses only the messages it keeps."""

    spec: SourceSpec
    ctx: SourceContext
    now: datetime
    first: bool
    seen: set[str] = field(default_factory=set)  # tokens of messages already handled
    # (date, raw, received, tag) of the messages to turn into items
    pending: list[tuple[datetime | None, bytes, datetime | None, Any]] = field(
        default_factory=list)
    taken: list[Any] = field(default_factory=list)  # tags of the messages that became items
    bad: int = 0
    filtered: int = 0

    def offer(self, raw: bytes, fallback: str, received: datetime | None = None,
              tag: Any = None) -> str:
        """Consider one message; returns its token for the saved state. Every message
        offered is remembered (``seen``) whatever becomes of it."""
        from companion.sources.mail_items import envelope, wanted

        try:
            env = envelope(raw)
        except _BAD_MESSAGE:
            self.bad += 1
            return mid_hash("", fallback)
        token = mid_hash(env.message_id, fallback)
        if token in self.seen:
            return token
        self.seen.add(token)
        if not wanted(env, self.spec.senders, self.spec.list_ids):
            self.filtered += 1
            return token
        date = env.date or received
        days = self.ctx.settings.first_sync_days
        if self.first and days and date is not None and date < self.now - timedelta(days=days):
            return token  # older than a first sync reaches: remembered, never imported
        self.pending.append((date, raw, received, tag))
        return token

    def result(self, state: dict[str, Any], *, requests: int = 0) -> FetchResult:
        """The items (oldest first; a first sync bounded by count) and the state."""
        from companion.sources.mail_items import normalize_message

        pending = sorted(self.pending, key=lambda p: p[0] or self.now)
        limit = self.ctx.settings.first_sync_limit
        if self.first and limit:
            pending = pending[-limit:]
        items: list[ItemData] = []
        for _, raw, received, tag in pending:
            try:
                items.append(normalize_message(raw, received=received, scope=self.spec.id))
            except _BAD_MESSAGE:
                self.bad += 1
                continue
            self.taken.append(tag)
        notes = []
        if self.bad:
            notes.append(f"{plural(self.bad, 'message')} could not be read and {'was' if self.bad == 1 else 'were'} skipped")
        return FetchResult(items=tuple(items), state=state, not_modified=not items and not self.bad,
                           notes=tuple(notes), requests=requests)


def _missing(spec: SourceSpec, what: str) -> SourceError:
    return SourceError(f"{spec.target} {what}", subject=spec.id)


def check_path(spec: SourceSpec) -> None:
    """On ``source add``: the path is a Maildir (cur/ and new/) or an mbox file (UsageError)."""
    path = spec.target
    if spec.kind == MAILDIR:
        if not os.path.isdir(path):
            raise UsageError(f"cannot add {spec.spec}: no such directory")
        if not (os.path.isdir(os.path.join(path, "cur")) and os.path.isdir(os.path.join(path, "new"))):
            raise UsageError(f"cannot add {spec.spec}: not a Maildir (it has no cur/ and new/ "
                             "folders)")
        return
    if not os.path.isfile(path):
        raise UsageError(f"cannot add {spec.spec}: no such file")
    try:
        with open(path, "rb") as f:
            head = f.read(5)
    except OSError as e:
        raise UsageError(f"cannot add {spec.spec}: {e.strerror}") from e
    if head and head != b"From ":
        raise UsageError(f"cannot add {spec.spec}: not an mbox file (it does not start with "
                         "a \"From \" line)")


class MaildirSource:
    """A Maildir: ``new/`` and ``cur/`` hold one message per file."""

    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx

    def _files(self) -> dict[str, str]:
        """Message key (the file name before ``:2,``) -> its path, from new/ and cur/."""
        out: dict[str, str] = {}
        for sub in ("new", "cur"):
            folder = os.path.join(self.spec.target, sub)
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                raise _missing(self.spec, f"is not a Maildir any more (no {sub}/ folder)") from None
            except OSError as e:
                raise _missing(self.spec, f"cannot be read: {e.strerror}") from e
            for name in names:
                if not name.startswith("."):
                    out.setdefault(name.split(":", 1)[0], os.path.join(folder, name))
        return out

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult:
        """Read the messages whose keys are new since the last sync."""
        if not os.path.isdir(self.spec.target):
            raise _missing(self.spec, "is gone (no such directory)")
        files = self._files()
        known: dict[str, str] = dict(state.get("keys") or {})
        picker = Picker(self.spec, self.ctx, now, first=not state.get("synced"),
                        seen=set(known.values()))
        keys: dict[str, str] = {k: v for k, v in known.items() if k in files}  # gone: forgotten
        for key, path in sorted(files.items()):
            if key in known:
                continue
            try:
                with open(path, "rb") as f:
                    raw = f.read()
                received = datetime.fromtimestamp(os.stat(path).st_mtime).astimezone()
            except FileNotFoundError:  # moved by a mail client meanwhile: next sync
                continue
            except OSError as e:
                raise _missing(self.spec, f"cannot be read: {e.strerror}") from e
            keys[key] = picker.offer(raw, key, received, tag=path)
        new_state = {**state, "keys": keys, "synced": True}
        result = picker.result(new_state)
        if self.spec.mark_seen and picker.taken:
            _flag_seen(self.spec.target, picker.taken)
        return result


def _flag_seen(root: str, paths: Iterable[str]) -> None:
    """Flag messages seen the way mail clients do: into cur/ with ``S`` in the info."""
    for path in paths:
        name = os.path.basename(path)
        key, _, info = name.partition(":")
        flags = set(info[2:]) if info.startswith("2,") else set()
        if "S" in flags and os.path.dirname(path).endswith("cur"):
            continue
        target = os.path.join(root, "cur", f"{key}:2,{''.join(sorted(flags | {'S'}))}")
        try:
            os.rename(path, target)
        except OSError:  # gone or moved by a mail client: it is its message
            pass


class MboxSource:
    """An mbox file (one file, messages after ``From `` lines); only ever read."""

    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult:
        """Read the file again when it changed; messages already seen are skipped."""
        import mailbox

        path = self.spec.target
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise _missing(self.spec, "is gone (no such file)") from None
        except OSError as e:
            raise _missing(self.spec, f"cannot be read: {e.strerror}") from e
        stamp = [st.st_size, st.st_mtime_ns]
        if state.get("stamp") == stamp and state.get("synced"):
            return FetchResult(state=dict(state), not_modified=True)
        picker = Picker(self.spec, self.ctx, now, first=not state.get("synced"),
                        seen=set(state.get("seen") or ()))
        present: list[str] = []
        try:
            box = mailbox.mbox(path, create=False)
            try:
                for key in box.iterkeys():
                    raw = box.get_bytes(key)
                    # a message without a Message-ID is known by its bytes
                    fallback = hashlib.blake2b(raw, digest_size=12).hexdigest()
                    present.append(picker.offer(raw, fallback))
            finally:
                box.close()
        except (mailbox.Error, OSError) as e:
            raise _missing(self.spec, f"cannot be read as an mbox: {e}") from e
        # Remember what the file holds now: a message deleted from it is forgotten.
        new_state = {**state, "seen": sorted(set(present)), "stamp": stamp, "synced": True}
        return picker.result(new_state)

