"""Sending a reflection's parts, account by account, with the journal ahead of every request.

The order is what makes "nothing lost, nothing doubled" hold (issues 6, 11, 12):

1. for each account, the thread is split with that instance's limit, counting the content
   warning (issue 11.7), and the parts, with their idempotency keys, are written to the
   journal before the first part is sent;
2. before each part's request the journal records the part as ``sending`` (issue 12.2), so
   a pln killed during the request leaves a trace that the part may be on the server;
3. each part is sent with its ``Idempotency-Key``, replying to the previous part, and its
   status id and URL are written to the journal as soon as the instance accepts it;
4. the first failure stops that account's thread (later parts stay ``pending``); other
   accounts go on: cross-posting is independent per account.

A retry resumes at the first part not ``sent``. A part whose last attempt has an unknown
outcome (``sending`` after a kill or Ctrl-C, or ``ambiguous`` after a timeout, a reset or a
5xx) is first looked for among the account's own statuses, because servers may ignore the
idempotency key or have forgotten it (issue 11.6); only a failure known to be a rejection
skips that look. A part refused for its length makes the retry split the parts not yet
posted again, shorter (issue 11.7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from companion.credentials import Account
from companion.errors import PlnError, PostError, UsageError
from companion.models import iso, parse_iso
from companion.reflections.compose import idempotency_key, progress
from companion.reflections.mastodon import Posted, Publisher, SendError
from companion.reflections.thread import (
    DEFAULT_MAX_CHARACTERS,
    Limits,
    cw_length,
    rest_of,
    split_thread,
)

Reflection = dict[str, Any]


class Interrupted(PostError):
    """Ctrl-C while posting: what was sent is in the journal; exit 130 (PRODUCT.md)."""

    exit_code = 130


@dataclass
class Sending:
    """What sending needs from its caller: the journal, the clock, the accounts."""

    save: Callable[[Reflection], None]
    clock: Callable[[], datetime]
    account: Callable[[str], Account]
    publisher: Callable[[Account], Publisher]


def new_parts(texts: list[str], reflection_id: str, account: str, first: int = 1,
              generation: int = 0) -> list[dict[str, Any]]:
    """Journal entries for parts not sent yet, each with its idempotency key."""
    return [
        {
            "n": n,
            "text": t,
            "state": "pending",
            "status_id": None,
            "url": None,
            "uri": None,
            "idempotency_key": idempotency_key(reflection_id, account, n, generation),
            "error": None,
            "sent": None,
        }
        for n, t in enumerate(texts, first)
    ]


def overall_state(refl: Reflection) -> str:
    """sent when every account is; failed when one failed; else pending."""
    states = {e["state"] for e in refl["accounts"]}
    if states and states == {"sent"}:
        return "sent"
    return "failed" if "failed" in states else "pending"


def may_be_on_server(part: dict[str, Any]) -> bool:
    """Whether the part's last attempt may have made a status we never heard of."""
    return part["state"] == "sending" or bool(part.get("ambiguous"))


def send(refl: Reflection, how: Sending) -> Reflection:
    """Send every part not yet sent, on every account; Interrupted on Ctrl-C."""
    current: dict[str, Any] | None = None  # the account being sent to, for Ctrl-C
    try:
        for entry in refl["accounts"]:
            if entry["state"] != "sent":
                current = entry
                _send_account(refl, entry, how)
        current = None
    except KeyboardInterrupt:
        _record_interruption(refl, current)
        refl["state"] = overall_state(refl)
        how.save(refl)
        raise Interrupted(interrupted_message(refl), subject=refl["id"]) from None
    refl["state"] = overall_state(refl)
    how.save(refl)
    return refl


def _record_interruption(refl: Reflection, current: dict[str, Any] | None) -> None:
    if current is not None:
        current.update(state="failed", error="interrupted")
    for entry in refl["accounts"]:
        for part in entry["parts"]:
            if part["state"] == "sending":  # its request was under way: it may have arrived
                part.update(state="failed", ambiguous=True,
                            error="interrupted while sending: it may or may not have arrived")


def interrupted_message(refl: Reflection) -> str:
    """The one line for Ctrl-C during `pln post`."""
    sent, known = progress(refl)
    doubt = [f"{p['n']}" for e in refl["accounts"] for p in e["parts"] if p.get("ambiguous")]
    maybe = f"; part {', '.join(doubt)} may have arrived" if doubt else ""
    return (
        f"interrupted: {sent} of {known or '?'} parts sent{maybe} — reflection {refl['id']} is "
        f"saved in the journal: run `pln post --retry {refl['id']}` to finish it"
    )


def _fail(refl: Reflection, entry: dict[str, Any], message: str, how: Sending) -> None:
    entry["state"] = "failed"
    entry["error"] = message
    how.save(refl)


def _send_account(refl: Reflection, entry: dict[str, Any], how: Sending) -> None:
    try:
        account = how.account(entry["name"])
    except PlnError as e:  # logged out since: the other accounts go on
        _fail(refl, entry, e.message, how)
        return
    publisher = how.publisher(account)
    try:
        if not entry["parts"]:
            limits = publisher.limits()
            entry["limit"] = limits.max_characters
            entry["url_length"] = limits.url_length
            texts = split_thread(refl["text"], limits, cw=refl["cw"])
            entry["parts"] = new_parts(texts, refl["id"], account.name)
            how.save(refl)  # the parts and their keys, before the first is sent
        elif entry.get("resplit"):
            _resplit(refl, entry, account.name)
            how.save(refl)
        if refl.get("reply_to") and not entry.get("in_reply_to_id"):
            uri = refl["reply_to"]["uri"]
            found = publisher.find_status(uri)
            if found is None:
                raise SendError(
                    f"cannot find the status to reply to ({uri}) on {account.instance}",
                    retryable=False,
                )
            entry["in_reply_to_id"] = found
            how.save(refl)
    except (SendError, UsageError) as e:
        _fail(refl, entry, e.message, how)
        return
    previous = entry.get("in_reply_to_id")
    total = len(entry["parts"])
    for part in entry["parts"]:
        if part["state"] == "sent":
            previous = part["status_id"]
            continue
        looking = may_be_on_server(part)
        try:
            posted: Posted | None = None
            if looking:
                first = part.get("first_attempt") or part.get("attempted")
                posted = publisher.find_posted(
                    part["text"], in_reply_to_id=previous, cw=refl["cw"],
                    since=parse_iso(first) if first else None,
                )
                if posted is not None:
                    part["note"] = "found on the instance after a lost response"
                looking = False
            if posted is None:
                now = iso(how.clock())
                part.update(state="sending", attempted=now)
                part.setdefault("first_attempt", now)
                how.save(refl)  # "sending part k" is in the journal before the request
                posted = publisher.post(
                    part["text"],
                    in_reply_to_id=previous,
                    visibility=refl["visibility"],
                    cw=refl["cw"],
                    idempotency_key=part["idempotency_key"],
                )
        except SendError as e:
            # a failed look leaves the earlier doubt standing; a failed send has its own
            part["ambiguous"] = True if looking else e.ambiguous
            part["state"] = "failed"
            part["error"] = e.message
            message = f"part {part['n']}/{total}: {e.message}"
            if e.too_long:
                entry["resplit"] = {
                    "max": e.max_characters,
                    "length": len(part["text"]) + cw_length(refl["cw"]),
                }
                message += " — `pln post --retry` splits the parts not yet posted again, shorter"
            _fail(refl, entry, message, how)
            return
        part.update(state="sent", status_id=posted.id, url=posted.url, uri=posted.uri,
                    error=None, ambiguous=False, sent=iso(how.clock()))
        how.save(refl)  # each success is recorded as it happens
        previous = posted.id
    entry["state"] = "sent"
    entry["error"] = None


def _resplit(refl: Reflection, entry: dict[str, Any], account: str) -> None:
    """Split the parts not yet posted again after the server refused one for its length.

    The server counts differently from what it advertises (URLs as written, a smaller limit
    than its instance document says, …): count URLs as written, take the limit its message
    named, and if the refused part was within that even so, a tenth less than the refused
    part — so every retry makes progress.
    """
    refused = entry["resplit"]
    parts = entry["parts"]
    k = next(i for i, p in enumerate(parts) if p["state"] != "sent")
    known = [int(x) for x in (entry.get("limit"), refused.get("max")) if x]
    limit = min(known) if known else DEFAULT_MAX_CHARACTERS
    length = int(refused["length"])
    if length <= limit:
        limit = length - max(1, length // 10)
    limits = Limits(max_characters=limit, url_length=None)
    rest = rest_of(refl["text"], [p["text"] for p in parts[:k]])
    generation = int(entry.get("generation", 0)) + 1
    texts = split_thread(rest, limits, cw=refl["cw"], first=k + 1)
    entry["parts"] = parts[:k] + new_parts(texts, refl["id"], account, k + 1, generation)
    entry.update(limit=limit, url_length=None, generation=generation)
    del entry["resplit"]


def nothing_sent(refl: Reflection) -> bool:
    """No part of any account was ever sent or attempted."""
    return not any(p["state"] == "sent" or p.get("attempted") or p["state"] == "sending"
                   for e in refl["accounts"] for p in e["parts"])


def failure_message(refl: Reflection) -> str:
    """One line saying which parts are out and how to finish (for a failed post)."""
    sent, known = progress(refl)
    problems = [f"{e['name']}: {e['error']}" for e in refl["accounts"] if e["state"] != "sent"]
    if nothing_sent(refl):
        return (
            f"reflection {refl['id']} was not posted: nothing was sent ({'; '.join(problems)})"
            f" — it is saved in the journal: run `pln post --retry {refl['id']}` to send it"
        )
    return (
        f"reflection {refl['id']} is not fully posted ({sent} of {known} parts sent; "
        f"{'; '.join(problems)}) — it is saved in the journal: "
        f"run `pln post --retry {refl['id']}` to finish it"
    )
