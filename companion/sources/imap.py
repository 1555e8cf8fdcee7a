"""Newsletters from an IMAP folder (issue 18), with the standard ``imaplib``.

Incremental by UIDVALIDITY + UID (RFC 3501 §2.3.1.1): the state keeps the folder's
UIDVALIDITY and the highest UID already handled, and a sync asks only for UIDs above it. A
changed UIDVALIDITY means the server renumbered the folder: it is read again like a first
sync, and since items are keyed by Message-ID nothing is doubled. The first sync is bounded
(``first_sync_limit`` newest messages of the last ``first_sync_days`` days).

Nothing is changed on the server unless the source says ``mark_seen = true``: the folder is
opened with EXAMINE (read-only) and bodies are fetched with ``BODY.PEEK[]``, which never sets
``\\Seen``. With ``mark_seen``, the messages turned into items are flagged ``\\Seen``.

``imaps://`` speaks TLS from the start; ``imap://`` upgrades with STARTTLS and refuses to send
a password in clear text, except to a loopback address. The password comes from
credentials.json (``pln source add`` asks for it) and never appears in a message.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from companion.errors import AuthError, FetchError, SourceError, UsageError
from companion.sources.base import FetchResult, SourceContext
from companion.sources.mail import Picker
from companion.specs import ImapAddress, SourceSpec, imap_address, is_loopback_host
from companion.words import plural

_BATCH = 50  # messages per UID FETCH
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def mutf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): "Lettres d'é" -> "Lettres d'&AOk-"."""
    import base64

    out, chunk = [], ""

    def flush() -> None:
        nonlocal chunk
        if chunk:
            b = base64.b64encode(chunk.encode("utf-16-be")).decode("ascii").rstrip("=")
            out.append("&" + b.replace("/", ",") + "-")
            chunk = ""

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            chunk += ch
    flush()
    return "".join(out)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Any) -> str:
    parts = data if isinstance(data, list) else [data]
    out = []
    for p in parts:
        if isinstance(p, bytes):
            out.append(p.decode("utf-8", "replace"))
        elif p is not None:
            out.append(str(p))
    return " ".join(out).strip()


class _Session:
    """One logged-in connection; every failure becomes a PlnError naming the server."""

    def __init__(self, addr: ImapAddress, timeout: float, subject: str | None) -> None:
        self.addr = addr
        self.where = f"{addr.host}:{addr.port}"
        self.subject = subject
        self.timeout = timeout
        self.conn: imaplib.IMAP4 | None = None
        self.requests = 0

    def lost(self, e: BaseException) -> FetchError:
        if isinstance(e, (TimeoutError, socket.timeout)):
            why = f"no answer within {self.timeout:g} s"
        elif isinstance(e, (imaplib.IMAP4.abort, EOFError, ConnectionError)):
            why = "closed by the server or the network"  # imaplib's text quotes raw bytes
        else:
            why = str(e).strip() or type(e).__name__
        return FetchError(
            f"the IMAP connection to {self.where} was lost ({why[:200]}); nothing from this "
            "sync was kept, the next sync starts where the last one finished",
            subject=self.subject,
        )

    def open(self, password: str) -> None:
        addr = self.addr
        context = ssl.create_default_context()
        try:
            if addr.tls:
                self.conn = imaplib.IMAP4_SSL(addr.host, addr.port, ssl_context=context,
                                              timeout=self.timeout)
            else:
                self.conn = imaplib.IMAP4(addr.host, addr.port, timeout=self.timeout)
                if "STARTTLS" in self.conn.capabilities:
                    self.conn.starttls(ssl_context=context)
                elif not is_loopback_host(addr.host):
                    raise UsageError(
                        f"{self.where} offers no STARTTLS: pln will not send your password "
                        f"in clear text — use imaps://{addr.user}@{addr.host}/… instead"
                    )
        except ssl.SSLError as e:
            raise FetchError(f"TLS with {self.where} failed ({e.reason or e})",
                             subject=self.subject) from e
        except ConnectionRefusedError as e:
            raise FetchError(f"cannot connect to {self.where}: connection refused",
                             subject=self.subject) from e
        except socket.gaierror as e:
            raise FetchError(f"cannot connect to {self.where}: host name not found (DNS)",
                             subject=self.subject) from e
        except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError, EOFError) as e:
            raise self.lost(e) from e
        self.requests += 1
        try:
            self.conn.login(addr.user, password)
        except imaplib.IMAP4.abort as e:
            raise self.lost(e) from e
        except imaplib.IMAP4.error as e:
            # The server's words (e.g. "[AUTHENTICATIONFAILED] Authentication failed.") only:
            # imaplib's error never contains the password, and neither does this.
            raise AuthError(
                f"the IMAP server {self.where} refused the login for {addr.user} "
                f"({_text(e.args[0] if e.args else '')[:120]})",
                subject=self.subject,
            ) from None
        except (OSError, EOFError) as e:
            raise self.lost(e) from e

    def call(self, fn: str, *args: Any) -> list[Any]:
        """Run an imaplib command; a NO/BAD answer raises SourceError, a drop FetchError."""
        assert self.conn is not None
        self.requests += 1
        try:
            typ, data = getattr(self.conn, fn)(*args)
        except imaplib.IMAP4.abort as e:
            raise self.lost(e) from e
        except imaplib.IMAP4.error as e:
            raise SourceError(f"{self.where} refused {args[0] if fn == 'uid' else fn.upper()}: "
                              f"{_text(e.args[0] if e.args else '')[:200]}",
                              subject=self.subject) from e
        except (OSError, EOFError) as e:
            raise self.lost(e) from e
        if typ != "OK":
            raise SourceError(f"{self.where} answered {typ} to {fn.upper()}: {_text(data)[:200]}",
                              subject=self.subject)
        return list(data)

    def select(self, readonly: bool) -> tuple[int, int | None]:
        """Open the folder; (UIDVALIDITY, UIDNEXT or None)."""
        assert self.conn is not None
        folder = self.addr.folder
        self.requests += 1
        try:
            typ, data = self.conn.select(_quoted(mutf7(folder)), readonly=readonly)
        except imaplib.IMAP4.abort as e:
            raise self.lost(e) from e
        except (OSError, EOFError) as e:
            raise self.lost(e) from e
        except imaplib.IMAP4.error as e:
            typ, data = "NO", [str(e).encode()]
        if typ != "OK":
            raise SourceError(f"no folder {folder!r} on {self.where} ({_text(data)[:120]})",
                              subject=self.subject)
        validity = _text(self.conn.untagged_responses.get("UIDVALIDITY", [b""])[-1])
        nxt = _text(self.conn.untagged_responses.get("UIDNEXT", [b""])[-1])
        try:
            return int(validity), (int(nxt) if nxt else None)
        except ValueError:
            raise SourceError(f"{self.where} gave no usable UIDVALIDITY for {folder!r}",
                              subject=self.subject) from None

    def search(self, criteria: str) -> list[int]:
        data = self.call("uid", "SEARCH", None, criteria)
        return sorted({int(x) for x in _text(data).split() if x.isdigit()})

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """UID -> RFC822.SIZE, so a message over the size cap is never downloaded."""
        out: dict[int, int] = {}
        for i in range(0, len(uids), _BATCH * 10):
            batch = ",".join(str(u) for u in uids[i:i + _BATCH * 10])
            for part in self.call("uid", "FETCH", batch, "(UID RFC822.SIZE)"):
                text = part[0] if isinstance(part, tuple) else part
                if isinstance(text, bytes):
                    uid, size = _UID.search(text), _SIZE.search(text)
                    if uid and size:
                        out[int(uid.group(1))] = int(size.group(1))
        return out

    def fetch(self, uids: list[int]) -> list[tuple[int, bytes]]:
        """(uid, the whole message) for each UID, without setting \\Seen (BODY.PEEK)."""
        out: list[tuple[int, bytes]] = []
        for i in range(0, len(uids), _BATCH):
            batch = ",".join(str(u) for u in uids[i:i + _BATCH])
            data = self.call("uid", "FETCH", batch, "(UID BODY.PEEK[])")
            for n, part in enumerate(data):
                if not isinstance(part, tuple) or len(part) < 2:
                    continue
                m = _UID.search(part[0])
                if m is None and n + 1 < len(data) and isinstance(data[n + 1], bytes):
                    m = _UID.search(data[n + 1])  # some servers put UID after the literal
                if m is not None:
                    out.append((int(m.group(1)), bytes(part[1])))
        return out

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError, EOFError):
            try:
                self.conn.shutdown()
            except OSError:
                pass
        self.conn = None


def _password(spec: SourceSpec, ctx: SourceContext, addr: ImapAddress) -> str:
    password = ctx.credentials.mail_password(addr.login)
    if password is None:
        raise AuthError(f"no IMAP password stored for {addr.user} on {addr.host} — run "
                        f"`pln source password {spec.id}`", subject=spec.id)
    return password


def _since(days: int, now: datetime) -> str:
    d = now - timedelta(days=days)
    return f"{d.day:02d}-{_MONTHS[d.month - 1]}-{d.year}"


def _filter_criteria(spec: SourceSpec) -> str:
    """A server-side SEARCH narrowing to the source's senders and lists (checked exactly
    afterwards: SEARCH matches substrings)."""
    terms = [f"FROM {_quoted(s)}" for s in spec.senders]
    terms += [f"HEADER List-Id {_quoted(x)}" for x in spec.list_ids]
    if not terms:
        return ""
    expr = terms[-1]
    for t in reversed(terms[:-1]):
        expr = f"OR {t} {expr}"
    return f" {expr}" if len(terms) == 1 else f" ({expr})"


def check_login(spec: SourceSpec, password: str, timeout: float) -> None:
    """On ``source add`` / ``source password``: log in and open the folder (UsageError:
    nothing is saved when it fails)."""
    addr = imap_address(spec)
    session = _Session(addr, timeout, spec.id)
    try:
        session.open(password)
        session.select(readonly=True)
    except AuthError as e:
        raise UsageError(f"{spec.spec}: {e.message} — check the user name and password; "
                         "nothing changed") from None
    except SourceError as e:
        raise UsageError(f"{spec.spec}: {e.message}; nothing changed") from None
    finally:
        session.close()


class ImapSource:
    """One folder of an IMAP mailbox."""

    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult:
        """Log in, open the folder read-only, fetch the messages above the saved UID."""
        addr = imap_address(self.spec)
        session = _Session(addr, float(self.ctx.settings.timeout), self.spec.id)
        try:
            try:
                session.open(_password(self.spec, self.ctx, addr))
            except AuthError as e:
                e.message = (f"{e.message} — if the password changed, run "
                             f"`pln source password {self.spec.id}`")
                raise
            return self._sync(session, state, now)
        finally:
            session.close()

    def _sync(self, session: _Session, state: Mapping[str, Any], now: datetime) -> FetchResult:
        validity, uidnext = session.select(readonly=not self.spec.mark_seen)
        notes: list[str] = []
        first = state.get("uidvalidity") != validity
        if first and state.get("uidvalidity") is not None:
            notes.append(f"the server renumbered {self.addr_label} (UIDVALIDITY changed): read "
                         "again like a first sync; messages already in the inbox are not doubled")
        flt = _filter_criteria(self.spec)
        last = 0 if first else int(state.get("uid", 0))
        if first:
            days = self.ctx.settings.first_sync_days
            uids = session.search((f"SINCE {_since(days, now)}" if days else "ALL") + flt)
            everything = session.search("ALL") if uidnext is None else []
            top = (uidnext - 1) if uidnext is not None else max(everything, default=0)
        else:
            # "n:*" also matches the highest UID when n is above it (RFC 3501 §6.4.8)
            uids = [u for u in session.search(f"UID {last + 1}:*{flt}") if u > last]
            top = max([last, *uids])
            if uidnext is not None and uidnext - 1 > top:
                top = uidnext - 1  # filtered out or deleted meanwhile: nothing to ask again
        if first and self.ctx.settings.first_sync_limit:
            uids = uids[-self.ctx.settings.first_sync_limit:]
        if uids:
            cap = int(self.ctx.settings.max_bytes)
            sizes = session.sizes(uids)
            big = [u for u in uids if sizes.get(u, 0) > cap]
            if big:
                notes.append(f"{plural(len(big), 'message')} larger than max_bytes ({cap} bytes) "
                             f"{'was' if len(big) == 1 else 'were'} left out")
                uids = [u for u in uids if u not in set(big)]
        picker = Picker(self.spec, self.ctx, now, first=first)
        for uid, raw in session.fetch(uids):
            picker.offer(raw, f"{validity}:{uid}", tag=uid)
        result = picker.result({"uidvalidity": validity, "uid": max(top, last)},
                               requests=session.requests)
        if self.spec.mark_seen and picker.taken:
            flag = sorted(picker.taken)
            for i in range(0, len(flag), _BATCH):
                session.call("uid", "STORE", ",".join(map(str, flag[i:i + _BATCH])),
                             "+FLAGS.SILENT", "(\\Seen)")
        if notes:
            from dataclasses import replace

            result = replace(result, notes=(*notes, *result.notes))
        return result

    @property
    def addr_label(self) -> str:
        a = imap_address(self.spec)
        return f"{a.folder!r} on {a.host}"
