"""Posting reflections: the journal-and-publish verbs (sending itself: ``sending.py``).

A reflection is written to the journal before any request is made; ``sending.send`` then
posts its parts, recording each step in the journal as it goes. Text typed in $EDITOR or on
stdin that cannot be posted is kept as a draft (issue 13.5).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.credentials import Account
from companion.errors import PlnError, UsageError
from companion.ids import short_id
from companion.models import iso, parse_iso
from companion.reflections.compose import (
    check_visibility,
    cite,
    compose_text,
    normalize_tags,
)
from companion.reflections.mastodon import MastodonPublisher, Publisher
from companion.reflections.replies import PartIndex, replies_by_reflection
from companion.reflections.sending import Sending, failure_message, send
from companion.reflections.thread import Limits, part_length, split_thread

if TYPE_CHECKING:
    from companion.context import Context

REFLECTION_ID_LEN = 8
PublisherFactory = Callable[[Account], Publisher]


class Reflections:
    """The journal-and-publish verbs, on top of a Context's journal, inbox and accounts."""

    def __init__(self, companion: Context, publisher_for: PublisherFactory | None = None):
        self.c = companion
        self._publisher_for = publisher_for
        self._publishers: dict[str, Publisher] = {}

    # ----- parts -----------------------------------------------------------------------------

    def publisher(self, account: Account) -> Publisher:
        """One publisher per account for this command (limits are fetched once)."""
        if account.name not in self._publishers:
            if self._publisher_for is not None:
                self._publishers[account.name] = self._publisher_for(account)
            else:
                s = self.c.settings
                self._publishers[account.name] = MastodonPublisher(
                    account, timeout=float(s.timeout), user_agent=s.user_agent
                )
        return self._publishers[account.name]

    def accounts(self, names: list[str]) -> list[Account]:
        """The accounts to post with: those named, else the default one (AuthError if none)."""
        creds = self.c.credentials
        if not names:
            default = self.c.settings.default_account
            return [creds.account(default if default and creds.has(default) else None)]
        return [creds.account(n) for n in dict.fromkeys(names)]

    # ----- composing -------------------------------------------------------------------------

    def check(
        self,
        *,
        on: list[str] | None = None,
        tags: list[str] | None = None,
        visibility: str = "public",
        accounts: list[str] | None = None,
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        """Everything about a reflection that does not depend on its text, checked (UsageError,
        AuthError): run before $EDITOR opens, so what is typed there is never refused after
        (issue 13.5). Returns the checked parts for ``prepare``."""
        vis = check_visibility(visibility)
        normalize_tags(tags or [])
        names = {s.id: s.name for s in self.c.config.sources if s.name}
        cites = [cite(self.c.store.require(p), names) for p in dict.fromkeys(on or [])]
        reply = None
        if reply_to:
            rec = self.c.store.require(reply_to)
            if rec.get("kind") != "status" or not rec.get("key"):
                raise UsageError(
                    f"item {rec['id']} is a feed entry, not a status: --reply-to needs a status "
                    "(use --on to cite it)"
                )
            reply = {
                "item": rec["id"],
                "uri": rec["key"],
                "url": rec.get("url", ""),
                "author": (rec.get("author") or {}).get("handle", ""),
            }
        return {"visibility": vis, "cites": cites, "reply_to": reply,
                "accounts": self.accounts(accounts or [])}

    def prepare(
        self,
        body: str,
        *,
        on: list[str] | None = None,
        tags: list[str] | None = None,
        visibility: str = "public",
        cw: str = "",
        accounts: list[str] | None = None,
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        """A new reflection, validated but neither saved nor sent (UsageError on bad input)."""
        checked = self.check(on=on, tags=tags, visibility=visibility, accounts=accounts,
                             reply_to=reply_to)
        if not body.strip() and not on:
            raise UsageError("nothing to post: the reflection is empty (nothing was saved)")
        tag_list = normalize_tags(tags or [], body)
        text = compose_text(body, checked["cites"], tag_list)
        now = self.c.clock()
        rid = self._new_id(now, text)
        return {
            "id": rid,
            "created": iso(now),
            "updated": iso(now),
            "body": body.strip(),
            "text": text,
            "visibility": checked["visibility"],
            "cw": cw.strip(),
            "tags": tag_list,
            "cites": checked["cites"],
            "reply_to": checked["reply_to"],
            "state": "pending",
            "accounts": [
                {
                    "name": a.name,
                    "instance": a.instance,
                    "handle": a.handle,
                    "state": "pending",
                    "error": None,
                    "limit": None,
                    "in_reply_to_id": None,
                    "parts": [],
                }
                for a in checked["accounts"]
            ],
        }

    def _new_id(self, now: datetime, text: str) -> str:
        known = {r["id"] for r in self.c.journal.all()}
        while True:
            rid = short_id(f"{iso(now)}\0{text}\0{os.urandom(8).hex()}", REFLECTION_ID_LEN)
            if rid not in known and not rid.isdigit():
                return rid

    def preview(self, refl: dict[str, Any]) -> list[dict[str, Any]]:
        """What would be posted on each account, part by part, with character counts.

        Reads each instance's limit (a GET); sends nothing and writes nothing.
        """
        out = []
        for entry in refl["accounts"]:
            account = self.c.credentials.account(entry["name"])
            limits = self.publisher(account).limits()
            parts = split_thread(refl["text"], limits, cw=refl["cw"])
            out.append(
                {
                    "account": entry["name"],
                    "handle": entry["handle"],
                    "limit": limits.max_characters,
                    "parts": [
                        {"n": n, "text": t, "length": part_length(t, limits, refl["cw"])}
                        for n, t in enumerate(parts, 1)
                    ],
                }
            )
        return out

    # ----- sending -----------------------------------------------------------------------------

    def post(self, refl: dict[str, Any]) -> dict[str, Any]:
        """Save the reflection to the journal, then send it; returns it with what happened."""
        self.c.home.ensure()
        self.c.journal.lock("pln post")
        try:
            self._save(refl)  # journal first
            return self._send(refl)
        finally:
            self.c.journal.close()

    def retry(self, prefix: str) -> dict[str, Any]:
        """Resume a pending or failed reflection where it stopped (or post a kept draft)."""
        self.c.home.ensure()
        self.c.journal.lock("pln post --retry")
        try:
            refl = self.require(prefix)
            if refl["state"] == "sent":
                raise UsageError(f"reflection {refl['id']} is already posted: nothing to retry")
            if refl["state"] == "draft":
                refl = self._from_draft(refl)
                self._save(refl)
            return self._send(refl)
        finally:
            self.c.journal.close()

    def _save(self, refl: dict[str, Any]) -> None:
        refl["updated"] = iso(self.c.clock())
        self.c.journal.put(refl)

    def _send(self, refl: dict[str, Any]) -> dict[str, Any]:
        return send(refl, Sending(save=self._save, clock=self.c.clock,
                                  account=self.c.credentials.account, publisher=self.publisher))

    # ----- drafts (issue 13.5: what was typed is never lost) ----------------------------------

    def keep_draft(self, body: str, options: dict[str, Any], problem: str, *,
                   journal: bool = True) -> str:
        """Keep typed text that could not be posted; says where: a draft in the journal, or,
        when the journal cannot be written (busy, broken; ``journal=False``: known to be), a
        file in the pln home."""
        now = self.c.clock()
        try:
            if not journal:
                raise OSError("the journal cannot be written")
            self.c.home.ensure()
            self.c.journal.lock("pln post (keeping a draft)")
            try:
                rid = self._new_id(now, body)
                self.c.journal.put({
                    "id": rid, "created": iso(now), "updated": iso(now), "body": body.strip(),
                    "text": body.strip(), "cw": str(options.get("cw") or ""), "state": "draft",
                    "draft": options, "error": problem, "cites": [], "tags": [],
                    "reply_to": None, "accounts": [],
                })
            finally:
                self.c.journal.close()
            return f"your text is kept as draft {rid}: finish it with `pln post --retry {rid}`"
        except (PlnError, OSError):
            path = self._draft_file(now, body)
            return f"your text is kept in {path}: post it with `pln post - < {path}`"

    def _draft_file(self, now: datetime, body: str) -> Path:
        root = self.c.home.data_dir
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = root / f"draft-{now:%Y%m%d-%H%M%S}.md"
        n = 1
        while path.exists():
            n += 1
            path = root / f"draft-{now:%Y%m%d-%H%M%S}-{n}.md"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body.strip() + "\n")
        return path

    def _from_draft(self, draft: dict[str, Any]) -> dict[str, Any]:
        """The reflection a kept draft becomes, checked now (it keeps its id and date)."""
        opts = draft.get("draft") or {}
        refl = self.prepare(
            draft.get("body", ""), on=opts.get("on"), tags=opts.get("tags"),
            visibility=opts.get("visibility") or "public", cw=opts.get("cw") or "",
            accounts=opts.get("accounts"), reply_to=opts.get("reply_to"),
        )
        refl.update(id=draft["id"], created=draft["created"])
        return refl

    # ----- reading -----------------------------------------------------------------------------

    def require(self, prefix: str) -> dict[str, Any]:
        """A reflection by id prefix (NotFoundError / AmbiguousIdError)."""
        rid = self.c.journal.resolve(prefix)
        refl = self.c.journal.get(rid)
        assert refl is not None
        return refl

    def all(self) -> list[dict[str, Any]]:
        """Every reflection, newest first, each with the inbox items that reply to it."""
        if not self.c.home.journal_file.exists():
            return []
        rows = list(reversed(self.c.journal.all()))
        self._add_replies(rows)
        return rows

    def _add_replies(self, rows: list[dict[str, Any]]) -> None:
        """``replies``: ids of inbox statuses from others replying to a part (known once
        synced; see replies.py)."""
        index = PartIndex(rows)
        for r in rows:
            r["replies"] = []
        if not index or not self.c.home.inbox_dir.exists():
            return
        oldest = min(parse_iso(r["created"]) for r in rows)
        items = list(self.c.store.iter_items(since=oldest, where=index.may_reply))
        if not items:
            return
        found = replies_by_reflection(rows, items, self.c.source_hosts(), self.c.me())
        for r in rows:
            r["replies"] = found[r["id"]]

    def drafts(self) -> list[dict[str, Any]]:
        """Reflections not fully posted (drafts, pending or failed), newest first."""
        return [r for r in self.all() if r.get("state") != "sent"]


__all__ = ["Limits", "Reflections", "failure_message"]
