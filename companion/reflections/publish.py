"""Posting reflections: journal first, one idempotent request per part, resumable.

The order is what makes "nothing lost, nothing doubled" hold (issue 6):

1. the reflection is written to the journal (``journal.put`` writes the file) before any
   request is made;
2. for each account, the thread is split with that instance's limit and the parts, with
   their idempotency keys, are written to the journal before the first part is sent, and a
   thread is never re-split afterwards, so a retry sends the very same parts and keys;
3. each part is sent with its ``Idempotency-Key``, replying to the previous part, and its
   status id and URL are written to the journal as soon as the instance accepts it;
4. the first failure stops that account's thread (later parts stay ``pending``); other
   accounts go on: cross-posting is independent per account.

A retry (``pln post --retry ID``) resumes at the first part not ``sent``. A part whose
response was lost (timeout) is re-sent with the same key, so the instance returns the
status it already made instead of a second one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from companion.credentials import Account
from companion.errors import PlnError, UsageError
from companion.ids import short_id
from companion.models import iso, parse_iso
from companion.reflections.compose import (
    check_visibility,
    cite,
    compose_text,
    idempotency_key,
    normalize_tags,
    progress,
)
from companion.reflections.mastodon import MastodonPublisher, Posted, Publisher, SendError
from companion.reflections.thread import Limits, split_thread, weighted_length

if TYPE_CHECKING:
    from companion.service import Companion

REFLECTION_ID_LEN = 8
# Mastodon keeps an Idempotency-Key for one hour; past that a retry looks before it sends.
IDEMPOTENCY_WINDOW = timedelta(minutes=50)
PublisherFactory = Callable[[Account], Publisher]


class Reflections:
    """The journal-and-publish verbs, on top of a Companion's journal, inbox and accounts."""

    def __init__(self, companion: Companion, publisher_for: PublisherFactory | None = None):
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
        vis = check_visibility(visibility)
        if not body.strip() and not on:
            raise UsageError("nothing to post: the reflection is empty (nothing was saved)")
        names = {s.id: s.name for s in self.c.config.sources if s.name}
        cites = [cite(self.c.store.require(p), names) for p in dict.fromkeys(on or [])]
        tag_list = normalize_tags(tags or [], body)
        text = compose_text(body, cites, tag_list)
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
        accts = self.accounts(accounts or [])
        now = self.c.clock()
        rid = self._new_id(now, text)
        return {
            "id": rid,
            "created": iso(now),
            "updated": iso(now),
            "body": body.strip(),
            "text": text,
            "visibility": vis,
            "cw": cw.strip(),
            "tags": tag_list,
            "cites": cites,
            "reply_to": reply,
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
                for a in accts
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
            parts = split_thread(refl["text"], limits)
            out.append(
                {
                    "account": entry["name"],
                    "handle": entry["handle"],
                    "limit": limits.max_characters,
                    "parts": [
                        {"n": n, "text": t, "length": weighted_length(t, limits.url_length)}
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
        """Resume a pending or failed reflection where it stopped."""
        self.c.home.ensure()
        self.c.journal.lock("pln post --retry")
        try:
            refl = self.require(prefix)
            if refl["state"] == "sent":
                raise UsageError(f"reflection {refl['id']} is already posted: nothing to retry")
            return self._send(refl)
        finally:
            self.c.journal.close()

    def _save(self, refl: dict[str, Any]) -> None:
        refl["updated"] = iso(self.c.clock())
        self.c.journal.put(refl)

    def _send(self, refl: dict[str, Any]) -> dict[str, Any]:
        for entry in refl["accounts"]:
            if entry["state"] != "sent":
                self._send_account(refl, entry)
        states = {e["state"] for e in refl["accounts"]}
        refl["state"] = "sent" if states == {"sent"} else "failed" if "failed" in states else "pending"
        self._save(refl)
        return refl

    def _fail(self, refl: dict[str, Any], entry: dict[str, Any], message: str) -> None:
        entry["state"] = "failed"
        entry["error"] = message
        self._save(refl)

    def _send_account(self, refl: dict[str, Any], entry: dict[str, Any]) -> None:
        try:
            account = self.c.credentials.account(entry["name"])
        except PlnError as e:  # logged out since: the other accounts go on
            self._fail(refl, entry, e.message)
            return
        publisher = self.publisher(account)
        try:
            if not entry["parts"]:
                limits = publisher.limits()
                entry["limit"] = limits.max_characters
                texts = split_thread(refl["text"], limits)
                entry["parts"] = [
                    {
                        "n": n,
                        "text": t,
                        "state": "pending",
                        "status_id": None,
                        "url": None,
                        "uri": None,
                        "idempotency_key": idempotency_key(refl["id"], account.name, n),
                        "error": None,
                        "sent": None,
                    }
                    for n, t in enumerate(texts, 1)
                ]
                self._save(refl)  # the parts and their keys, before the first is sent
            if refl.get("reply_to") and not entry.get("in_reply_to_id"):
                uri = refl["reply_to"]["uri"]
                found = publisher.find_status(uri)
                if found is None:
                    raise SendError(
                        f"cannot find the status to reply to ({uri}) on {account.instance}",
                        retryable=False,
                    )
                entry["in_reply_to_id"] = found
                self._save(refl)
        except (SendError, UsageError) as e:
            self._fail(refl, entry, e.message)
            return
        previous = entry.get("in_reply_to_id")
        total = len(entry["parts"])
        for part in entry["parts"]:
            if part["state"] == "sent":
                previous = part["status_id"]
                continue
            try:
                posted = self._already_posted(publisher, part, previous)
                if posted is not None:
                    part["note"] = "found on the instance after a lost response"
                else:
                    part["attempted"] = iso(self.c.clock())
                    posted = publisher.post(
                        part["text"],
                        in_reply_to_id=previous,
                        visibility=refl["visibility"],
                        cw=refl["cw"],
                        idempotency_key=part["idempotency_key"],
                    )
            except SendError as e:
                part["state"] = "failed"
                part["error"] = e.message
                # once an attempt may have arrived, it stays "may have" until the part is sent
                part["ambiguous"] = e.ambiguous or bool(part.get("ambiguous"))
                self._fail(refl, entry, f"part {part['n']}/{total}: {e.message}")
                return
            part.update(state="sent", status_id=posted.id, url=posted.url, uri=posted.uri,
                        error=None, ambiguous=False, sent=iso(self.c.clock()))
            self._save(refl)  # each success is recorded as it happens
            previous = posted.id
        entry["state"] = "sent"
        entry["error"] = None

    def _already_posted(
        self, publisher: Publisher, part: dict[str, Any], previous: str | None
    ) -> Posted | None:
        """After a lost response older than the instance remembers idempotency keys, look
        for the status among the account's own before sending the part again."""
        if not part.get("ambiguous") or not part.get("attempted"):
            return None
        if self.c.clock() - parse_iso(part["attempted"]) < IDEMPOTENCY_WINDOW:
            return None  # the key still works: the instance returns the status it made
        return publisher.find_posted(part["text"], in_reply_to_id=previous)

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
        """``replies``: ids of inbox statuses replying to a part (known once synced)."""
        mine: dict[str, dict[str, Any]] = {}
        for r in rows:
            r["replies"] = []
            for e in r.get("accounts", []):
                for p in e.get("parts", []):
                    for key in (p.get("uri"), p.get("url")):
                        if key:
                            mine[key] = r
        if not mine or not self.c.home.inbox_dir.exists():
            return
        oldest = min(parse_iso(r["created"]) for r in rows)
        for item in self.c.store.iter_items(
            since=oldest, where=lambda i: i.get("reply_to") in mine
        ):
            mine[item["reply_to"]]["replies"].append(item["id"])

    def drafts(self) -> list[dict[str, Any]]:
        """Reflections not fully posted (pending or failed), newest first."""
        return [r for r in self.all() if r.get("state") != "sent"]


def failure_message(refl: dict[str, Any]) -> str:
    """One line saying which parts are out and how to finish (for a failed post)."""
    sent, known = progress(refl)
    problems = [f"{e['name']}: {e['error']}" for e in refl["accounts"] if e["state"] != "sent"]
    return (
        f"reflection {refl['id']} is not fully posted ({sent} of {known} parts sent; "
        f"{'; '.join(problems)}) — it is saved in the journal: "
        f"run `pln post --retry {refl['id']}` to finish it"
    )


__all__ = ["Limits", "Reflections", "failure_message"]
