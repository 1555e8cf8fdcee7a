"""Feed sources: RSS, Atom and JSON Feed over HTTP, fetched politely and incrementally (issue 3).

Politeness follows what reader and newsboat do: conditional GET (ETag / Last-Modified kept in
the source's opaque state), permanent redirects (301/308) reported so the config is updated,
410 Gone retires the source, 429/503 + Retry-After become ``RetryLater``, and every response
has a connect/read timeout, a total time limit and a size cap.

Parsing: feedparser is the reference for what a feed means. Raw ``FeedParserDict`` objects
never leave this module (see ``companion.sources.feed_parse``); they become ``ItemData``.

HTTP is urllib3 used directly (keep-alive pools shared by the worker threads, redirects
followed here): a warm sync where every feed answers 304 spends its time in requests, and
urllib3 costs a fraction of ``requests`` per request and at import (no charset_normalizer).
This module imports urllib3 at import time; it is itself imported only when a sync or
``pln source add`` needs it (``pln --help`` stays fast: issue 2). The parsing modules are
imported on the first body that needs parsing, so a sync of 304s never loads them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import urllib3

from companion.errors import FetchError, ParseError, SourceError, UsageError
from companion.sources.base import FetchResult, RetryLater, SourceContext
from companion.urls import redact

if TYPE_CHECKING:
    from companion.config import Settings
    from companion.models import ItemData
    from companion.sources.feed_parse import ParsedFeed
    from companion.specs import SourceSpec

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.3, */*;q=0.1"
)
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/x.atom+xml",
    "application/x-atom+xml",
    "text/xml",
    "application/xml",
)
_PERMANENT = (301, 308)
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 10
_MAX_RETRY_AFTER = timedelta(days=7)  # a server asking for more is ignored beyond this
_DEFAULT_RETRY_AFTER = timedelta(hours=1)  # 429 without Retry-After

_MANAGERS: dict[tuple[str, str | None], Any] = {}
_MANAGERS_LOCK = threading.Lock()

# Parsing is CPU-bound Python (feedparser/lxml, indexing words, preparing records): in threads
# it holds the GIL that the main thread needs to store items. With more than one core, entries
# are parsed in worker processes; a fetch thread hands a body over and goes on to its next
# feed (``_parse_later``), and the storing thread finishes the fetch when the parse is done. ``prepare()`` forks them at the start of a sync while the
# process is still single-threaded (~10 ms); if threads are already running (a progress bar,
# a library caller's own), fork() would be unsafe and a forkserver is started instead, on the
# first body that needs parsing (~0.25 s), so a sync where every feed answers 304 never pays.
_POOL: Any = None
_POOL_LOCK = threading.Lock()
_POOL_MIN_BYTES = 16_384  # a small body parses faster than it travels to another process
# Without workers forked at the start, this many big bodies are parsed here before a
# forkserver is started for the rest (~0.25 s to start: worth it only for many bodies).
_PARSE_HERE_FIRST = 8
_PARSED_HERE = 0


def _pool_size() -> int:
    """PLN_PARSE_PROCESSES if set (0: parse in this process), else one per core up to 4 —
    none on a single core, where a worker would only compete with the storing thread."""
    import os

    env = os.environ.get("PLN_PARSE_PROCESSES", "").strip()
    if env.isdigit():
        return min(int(env), 16)
    n = min(os.cpu_count() or 1, 4)
    return n if n >= 2 else 0


def prepare(fresh: bool = True) -> None:
    """Fork the parse workers now, if this process is single-threaded (called before a sync
    starts its fetch threads) and a feed has never been synced (``fresh``: its body will be
    parsed). Otherwise the first bodies that need parsing are parsed here, and
    ``_parse_pool`` starts a forkserver only if more keep coming (issue 14: a sync where
    every feed answers 304 spent 0.08 s of its 0.2 s starting workers it never used)."""
    global _POOL
    import sys

    # fork() is only safe without other threads, and only trusted on Linux (macOS system
    # libraries may not survive it; Windows has none)
    if not fresh or not sys.platform.startswith("linux"):
        return
    with _POOL_LOCK:
        if _POOL is not None or threading.active_count() > 1:
            return
        n = _pool_size()
        if not n:
            _POOL = False
            return
        import multiprocessing
        import os

        # Workers import the parsers with their first task, so a sync where every feed
        # answers 304 loads none of them.
        _POOL = _new_pool(n, multiprocessing.get_context("fork"), os.getpid())
        import signal

        # (a Ctrl-C while they start waits until each ignores it: see _worker_started)
        masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            _POOL.submit(os.getpid)  # forks every worker now, before any other thread exists
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, masked)


def _parse_pool() -> Any:
    global _POOL, _PARSED_HERE
    with _POOL_LOCK:
        if _POOL is None and _PARSED_HERE < _PARSE_HERE_FIRST:
            _PARSED_HERE += 1  # (a few bodies: cheaper here than starting a forkserver)
            return None
        if _POOL is None:
            n = _pool_size()
            if not n:
                _POOL = False
            else:
                import multiprocessing

                if "forkserver" in multiprocessing.get_all_start_methods():
                    mp = multiprocessing.get_context("forkserver")
                    mp.set_forkserver_preload(["companion.sources.feed_parse"])
                else:  # Windows
                    mp = multiprocessing.get_context("spawn")
                _POOL = _new_pool(n, mp, 0)
        return _POOL or None


def _new_pool(n: int, mp_context: Any, parent: int) -> Any:
    """A pool of ``n`` parse workers; ``parent``: the pid that forks them (0: a forkserver)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=n, mp_context=mp_context, initializer=_worker_started,
                               initargs=(parent,))


def _worker_started(parent: int) -> None:
    """In a parse worker: end with the process that started it. A pln killed outright (kill
    -9, the OOM killer) would otherwise leave its workers waiting on their queue forever."""
    import os
    import signal
    import sys

    # Ctrl-C in a terminal reaches the whole process group: pln stops the sync and ends its
    # workers itself (issue 13: each worker printed a KeyboardInterrupt traceback)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    if parent and os.getppid() != parent:  # forked by a pln that is already gone
        os._exit(0)


def _parse_later(body: bytes, headers: Mapping[str, str], url: str, source_id: str,
                 known: frozenset[str], prepare: Any, now: datetime | None,
                 encoding: str = "", max_bytes: int = 0) -> Future[Any] | None:
    """Submit a body big enough to a parse worker and return at once (the fetch thread goes
    on to its next feed); None when it is parsed here (small body, one core, no pool).

    At most ``_IN_FLIGHT`` bodies wait for a worker at a time: a fetch thread that gets ahead
    of them waits here, so fetched bodies do not pile up in memory.
    """
    size = len(body) * (4 if encoding else 1)  # (feeds compress about 5:1)
    pool = _parse_pool() if size >= _POOL_MIN_BYTES else None
    if pool is None:
        return None
    from concurrent.futures.process import BrokenProcessPool

    _IN_FLIGHT.acquire()
    try:
        fut = pool.submit(_parse_remote, body, dict(headers), url, source_id, known, prepare, now,
                          encoding, max_bytes)
    except (BrokenProcessPool, RuntimeError):  # a worker died, or the pool is shut down
        _IN_FLIGHT.release()
        return None
    fut.add_done_callback(lambda _: _IN_FLIGHT.release())
    return fut


_IN_FLIGHT = threading.BoundedSemaphore(16)


def _parsed(fut: Future[Any] | None, body: bytes, headers: Mapping[str, str], url: str,
            source_id: str, known: frozenset[str], prepare: Any = None,
            now: datetime | None = None, encoding: str = "", max_bytes: int = 0,
            ) -> tuple[ParsedFeed, Sequence[ItemData], tuple[Any, ...] | None]:
    """(parsed, its items, prepared or None): from the worker's ``fut``, else parsed here."""
    if fut is not None:
        from concurrent.futures.process import BrokenProcessPool

        try:
            parsed, blob, prepared = fut.result()
        except BrokenProcessPool:  # a worker died (out of memory, killed): parse here instead
            pass
        else:
            return parsed, (PickledItems(blob) if blob is not None else parsed.items), prepared
    parsed, prepared = _parse_job(body, headers, url, source_id, known, prepare, now, encoding,
                                  max_bytes)
    return parsed, parsed.items, prepared


def _parse_job(body: bytes, headers: Mapping[str, str], url: str, source_id: str,
               known: frozenset[str], prepare: Any, now: datetime | None, encoding: str = "",
               max_bytes: int = 0) -> tuple[ParsedFeed, tuple[Any, ...] | None]:
    from companion.sources.feed_parse import parse_feed

    if encoding:
        body = gunzip(body, max_bytes)
    parsed = parse_feed(body, headers, url, source_id, known)
    if prepare is None or now is None or not parsed.items:
        return parsed, None
    prepared = prepare(parsed.items, source_id, now)
    for item in parsed.items:  # indexed in ``prepared``; rendered again if ever needed
        item.__dict__.pop("words", None)
    return parsed, prepared


def _parse_remote(body: bytes, headers: Mapping[str, str], url: str, source_id: str,
                  known: frozenset[str], prepare: Any, now: datetime | None, encoding: str,
                  max_bytes: int) -> tuple[ParsedFeed, bytes | None, tuple[Any, ...] | None]:
    """``_parse_job`` in a worker. With ``prepared``, the items travel back pickled apart, as
    bytes: the storing process files what is prepared, and unpickles the items only for an
    entry it already has (half of what it would unpickle otherwise)."""
    import pickle
    from dataclasses import replace

    parsed, prepared = _parse_job(body, headers, url, source_id, known, prepare, now, encoding,
                                  max_bytes)
    if prepared is None:
        return parsed, None, None
    return replace(parsed, items=()), pickle.dumps(parsed.items, pickle.HIGHEST_PROTOCOL), prepared


class PickledItems(Sequence["ItemData"]):
    """Items pickled by a parse worker, unpickled on first use."""

    def __init__(self, blob: bytes) -> None:
        self._blob: bytes | None = blob
        self._items: tuple[ItemData, ...] = ()

    def _load(self) -> tuple[ItemData, ...]:
        if self._blob is not None:
            import pickle

            self._items, self._blob = pickle.loads(self._blob), None
        return self._items

    def __len__(self) -> int:
        return len(self._load())

    def __getitem__(self, i: Any) -> Any:
        return self._load()[i]


def _env_proxy(scheme: str, host: str) -> str | None:
    """The proxy for ``scheme://host`` from the environment (``http_proxy``, ``https_proxy``,
    ``all_proxy``, ``no_proxy``; lower case first, as urllib and requests read them)."""
    import os

    env = os.environ

    def var(name: str) -> str:
        return env.get(name) or env.get(name.upper()) or ""

    proxy = var(f"{scheme}_proxy") or var("all_proxy")
    if not proxy:
        return None
    host = host.lower().strip("[]")
    for entry in var("no_proxy").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*":
            return None
        if entry:
            entry = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
            if host == entry or host.endswith("." + entry.lstrip("*.")):
                return None
    return proxy if "://" in proxy else "http://" + proxy


def _manager(settings: Settings, scheme: str, host: str) -> Any:
    """The connection manager for a URL: one per scheme (and proxy), shared by the worker
    threads, so keep-alive connections to a host are reused across its feeds."""
    proxy = _env_proxy(scheme, host)
    key = (scheme, proxy)
    pm = _MANAGERS.get(key)
    if pm is not None:
        return pm
    with _MANAGERS_LOCK:
        pm = _MANAGERS.get(key)
        if pm is None:
            # One keep-alive pool per host, at most per_host connections each: a thread that
            # would open one more waits for one to come back (block), so a server never sees
            # more than per_host requests of this sync at once (issue 14).
            kw: dict[str, Any] = {"num_pools": max(64, 2 * int(settings.workers)),
                                  "maxsize": max(1, int(settings.per_host)), "block": True,
                                  "retries": False}
            if scheme == "https":  # the CA bundle requests used (import only for https)
                import certifi

                kw["ca_certs"] = certifi.where()
            if proxy is None:
                pm = urllib3.PoolManager(**kw)
            elif proxy.startswith(("http://", "https://")):
                # (plain http goes through one pool, the proxy's: the sources' own hosts
                # are kept apart by the sync's HostQueue)
                kw["maxsize"] = max(1, int(settings.workers))
                pm = urllib3.ProxyManager(proxy, **kw)
            else:
                raise FetchError(f"unsupported proxy {redact(proxy)!r} (only http:// and "
                                 "https:// proxies)")
            from companion.sources.deadline import install

            _MANAGERS[key] = install(pm)
        return pm


def close() -> None:
    """Stop the parse processes and close kept-alive connections (a sync is over)."""
    global _POOL, _PARSED_HERE
    with _POOL_LOCK:
        if _POOL:
            _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL = None
        _PARSED_HERE = 0
    with _MANAGERS_LOCK:
        for pm in _MANAGERS.values():
            pm.clear()
        _MANAGERS.clear()


@dataclass(frozen=True)
class Response:
    """What one GET produced (the body already read, capped)."""

    status: int
    url: str  # the final URL after redirects
    headers: Mapping[str, str]
    body: bytes
    moved_to: str | None  # target of a chain of permanent redirects from the start, if any
    # "gzip" when ``body`` was left compressed (``keep_gzip``): ``gunzip`` gives the bytes
    encoding: str = ""


def _mb(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


def _reason(e: BaseException) -> str:
    """A short reason for a urllib3/socket exception (the same wording as Mastodon's)."""
    from companion.sources.neterr import network_reason

    if isinstance(e, urllib3.exceptions.SSLError):
        return "TLS certificate problem"
    return network_reason(e)


def _discard(resp: Any) -> None:
    """Done with a response whose body is not wanted: keep the connection alive when what is
    left is small and known, else close it (an endless error page must not be read)."""
    left = resp.length_remaining
    if left is not None and left <= 65536 and not resp.chunked:
        resp.drain_conn()
        resp.release_conn()
    else:
        resp.close()
        resp.release_conn()


def _auth(url: str) -> tuple[str, str | None]:
    """(the URL without ``user:password@``, a Basic Authorization value for it or None)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    from base64 import b64encode
    from urllib.parse import unquote

    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    token = b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return parts._replace(netloc=hostport).geturl(), "Basic " + token


def total_deadline(settings: Settings) -> float:
    """Seconds a whole request may take, redirects included (README: three times
    ``timeout``, at least 5 s)."""
    return max(float(settings.timeout) * 3, 5.0)


def http_get(
    url: str,
    settings: Settings,
    user_agent: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    keep_gzip: bool = False,
) -> Response:
    """GET ``url`` with timeouts, a size cap and a total time limit; raise FetchError.

    Redirects are followed here (at most ``_MAX_REDIRECTS``), so a chain of permanent ones
    from the start is reported as ``moved_to``. With ``keep_gzip`` a gzipped body is left
    compressed (``Response.encoding``) for a parse worker to ``gunzip``: the size cap then
    holds for the compressed bytes here and for the decompressed ones there.

    The total time limit holds for every step, headers included: a server that drips a
    byte at a time has its connection cut when it runs out (``companion.sources.deadline``).
    """
    from companion.sources.deadline import request_deadline

    total = total_deadline(settings)
    gave_up = f"response took longer than {total:g} s; gave up"
    with request_deadline(total) as deadline:
        try:
            resp = _http_get(url, settings, user_agent, etag=etag, last_modified=last_modified,
                             keep_gzip=keep_gzip)
        except FetchError as e:
            if deadline.expired:
                raise FetchError(gave_up) from e
            raise
    if deadline.expired:  # a body without a length, cut short, looks complete: it is not
        raise FetchError(gave_up)
    return resp


def _http_get(
    url: str,
    settings: Settings,
    user_agent: str,
    *,
    etag: str | None,
    last_modified: str | None,
    keep_gzip: bool,
) -> Response:
    timeout = float(settings.timeout)
    max_bytes = int(settings.max_bytes)
    total = total_deadline(settings)
    headers = {"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    to = urllib3.Timeout(connect=timeout, read=timeout)
    start = time.monotonic()
    current, authorization = _auth(url)
    auth_host = urlsplit(current).hostname
    moved_to: str | None = None
    permanent = True  # every hop so far was a permanent redirect
    for hop in range(_MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"invalid URL {redact(current)!r}")
        send = headers
        if authorization and parts.hostname == auth_host:  # credentials stay with their host
            send = {**headers, "Authorization": authorization}
        try:
            resp = _manager(settings, scheme, parts.hostname).urlopen(
                "GET", current, headers=send, timeout=to, redirect=False, retries=False,
                preload_content=False, decode_content=True,
                pool_timeout=total,  # (waiting for one of the host's per_host connections)
            )
        except urllib3.exceptions.NewConnectionError as e:  # before TimeoutError: a subclass
            raise FetchError(f"cannot reach {parts.netloc}: {_reason(e)}") from e
        except urllib3.exceptions.TimeoutError as e:
            raise FetchError(f"timed out after {timeout:g} s") from e
        except (urllib3.exceptions.LocationValueError, ValueError) as e:  # control characters, …
            raise FetchError(f"invalid URL {redact(current)!r}") from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise FetchError(f"cannot reach {parts.netloc}: {_reason(e)}") from e
        location = resp.headers.get("Location") if resp.status in _REDIRECTS else None
        if not location:
            break
        _discard(resp)
        if hop == _MAX_REDIRECTS:
            raise FetchError(f"more than {_MAX_REDIRECTS} redirects")
        try:  # http.client decodes header bytes as latin-1; servers send UTF-8 (as requests)
            location = location.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
        nxt = urljoin(current, location.strip())
        if permanent and resp.status in _PERMANENT:
            moved_to = nxt
        else:
            permanent = False
        current = nxt
    encoding = ""
    try:
        body = b""
        if resp.status != 304 and resp.status < 300:
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"response larger than {_mb(max_bytes)} (the size cap)")
            chunks: list[bytes] = []
            size = 0
            if keep_gzip and (resp.headers.get("Content-Encoding") or "").strip().lower() in (
                    "gzip", "x-gzip"):
                encoding = "gzip"
            try:
                for chunk in resp.stream(65536, decode_content=not encoding):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"response larger than {_mb(max_bytes)} (the size cap)")
                    if time.monotonic() - start > total:
                        raise FetchError(f"response took longer than {total:g} s; gave up")
                    chunks.append(chunk)
            except urllib3.exceptions.TimeoutError as e:
                raise FetchError(f"timed out after {timeout:g} s") from e
            except urllib3.exceptions.DecodeError as e:  # e.g. "gzip" that is not gzip
                what = e.args[0] if e.args and isinstance(e.args[0], str) else _reason(e)
                raise FetchError(f"bad response body: {what}") from e
            except (urllib3.exceptions.HTTPError, OSError) as e:  # ProtocolError, IncompleteRead
                raise FetchError(f"connection broken while reading: {_reason(e)}") from e
            body = b"".join(chunks)
            resp.release_conn()
        else:
            _discard(resp)
    except BaseException:
        resp.close()
        resp.release_conn()
        raise
    return Response(resp.status, current, resp.headers, body, moved_to, encoding)


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """A gzipped body (``Response.encoding``), decompressed up to the size cap, as urllib3
    would have: members after the first are read too; garbage after them is ignored."""
    import zlib

    out: list[bytes] = []
    size = 0
    data, first = body, True
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while data:
                chunk = d.decompress(data, max_bytes + 1 - size)
                size += len(chunk)
                out.append(chunk)
                if size > max_bytes:
                    raise FetchError(f"response larger than {_mb(max_bytes)} (the size cap)")
                data = d.unconsumed_tail
        except zlib.error as e:
            if first:
                raise FetchError(f"bad response body: content-encoding gzip, but it could not "
                                 f"be decompressed ({e})") from e
            break  # trailing garbage after a complete member
        data, first = d.unused_data, False
    return b"".join(out)


def _retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), bounded to a week."""
    if not value:
        return None
    value = value.strip()
    until: datetime | None
    if value.isdigit():
        until = now + timedelta(seconds=int(value))
    else:
        from email.utils import parsedate_to_datetime

        try:
            until = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
    return min(max(until, now), now + _MAX_RETRY_AFTER)


def _status_error(resp: Response, now: datetime) -> SourceError | None:
    """The error for a non-success status (None for 200/304); RetryLater for 429/503."""
    code = resp.status
    if code == 304 or 200 <= code < 300:
        return None
    if code in (429, 503):
        until = _retry_after(resp.headers.get("Retry-After"), now)
        if until is None and code == 429:
            until = now + _DEFAULT_RETRY_AFTER
        if until is not None:
            what = "rate limited (429)" if code == 429 else "unavailable (503)"
            return RetryLater(f"{what}; server asked to retry after {until:%Y-%m-%d %H:%M} UTC",
                              until=until)
    try:
        from http import HTTPStatus

        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return FetchError(f"HTTP {code}{' ' + phrase if phrase else ''}")


status_error = _status_error  # for other sources that fetch over HTTP (Bluesky's RSS)


class FeedSource:
    """An RSS/Atom/JSON feed at a URL."""

    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult:
        """Conditional GET, then parse into items; see the module docstring for statuses."""
        url = self.spec.target
        # Validators belong to one URL; a config edited by hand invalidates them.
        same = state.get("url") in (None, url)
        resp = http_get(
            url,
            self.ctx.settings,
            self.ctx.user_agent,
            etag=state.get("etag") if same else None,
            last_modified=state.get("last_modified") if same else None,
            keep_gzip=True,  # decompressed by the parse worker (or below, when parsed here)
        )
        new_url = resp.moved_to if resp.moved_to and resp.moved_to != url else None
        if resp.status == 410:
            return FetchResult(state=dict(state), retired=True, requests=1)
        err = _status_error(resp, now)
        if err is not None:
            err.subject = self.spec.id
            raise err
        new_state: dict[str, Any] = dict(state) if same else {}
        new_state["url"] = new_url or url
        for header, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
            if resp.headers.get(header):
                new_state[key] = resp.headers[header]
        if resp.status == 304:
            return FetchResult(state=new_state, not_modified=True, new_url=new_url, requests=1)
        # A server without validators that sends the same bytes again costs no parsing either.
        from hashlib import blake2b

        digest = blake2b(resp.body, digest_size=16).hexdigest()
        if same and state.get("body_hash") == digest:
            return FetchResult(state=new_state, not_modified=True, new_url=new_url, requests=1)
        known = frozenset(state.get("seen", ())) if same else frozenset()
        args = (resp.body, resp.headers, resp.url, self.spec.id, known, self.ctx.prepare, now,
                resp.encoding, int(self.ctx.settings.max_bytes))
        parsing = _parse_later(*args)

        def finish(done: Future[Any] | None = None) -> FetchResult:
            parsed, items, prepared = _parsed(done, *args)
            if parsed.cut_off and not parsed.fingerprints:  # nothing read: a failure
                raise ParseError(parsed.notes[0], subject=self.spec.id)
            new_state["body_hash"] = digest
            new_state["seen"] = list(parsed.fingerprints)
            return FetchResult(items=items, state=new_state, new_url=new_url, notes=parsed.notes,
                               requests=1, prepared=prepared)

        if parsing is None:
            return finish()
        return FetchResult(state=new_state, new_url=new_url, requests=1, later=parsing,
                           finish=finish)


# ----- autodiscovery ----------------------------------------------------------------------------


def _alternate_links() -> Any:
    """A parser for ``<link rel="alternate" type="…feed type…" href>`` and ``<base href>``
    (html.parser is imported only when a page is searched for feeds)."""
    from html.parser import HTMLParser

    class _AlternateLinks(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.base: str | None = None
            self.links: list[tuple[str, str, str]] = []  # (href, type, title)

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k.lower(): (v or "") for k, v in attrs}
            if tag == "base" and a.get("href") and self.base is None:
                self.base = a["href"]
            elif tag in ("link", "a"):
                rels = a.get("rel", "").lower().split()
                typ = a.get("type", "").lower().split(";")[0].strip()
                if "alternate" in rels and typ in FEED_TYPES and a.get("href"):
                    self.links.append((a["href"].strip(), typ, a.get("title", "").strip()))

    return _AlternateLinks()


def find_feed_links(html: bytes | str, page_url: str) -> list[tuple[str, str]]:
    """The feeds a page names with ``<link rel="alternate">``: [(absolute url, title)]."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    p = _alternate_links()
    try:
        p.feed(text)
        p.close()
    except Exception:  # noqa: BLE001, S110 - HTMLParser is lenient; anything odd just ends the scan
        pass
    base = urljoin(page_url, p.base) if p.base else page_url
    out: dict[str, str] = {}
    for href, _typ, title in p.links:
        absolute = urljoin(base, href)
        if absolute.startswith(("http://", "https://")) and absolute not in out:
            out[absolute] = title
    return list(out.items())


def _rank(link: tuple[str, str]) -> int:
    """Prefer a site's main feed over comment feeds (WordPress names both alternate)."""
    url, title = link
    return 1 if "comment" in (url + " " + title).lower() else 0


def _fetch_for_add(url: str, settings: Settings, user_agent: str) -> Response:
    try:
        resp = http_get(url, settings, user_agent)
    except FetchError as e:
        raise UsageError(f"cannot add {url}: {e.message}") from e
    if not 200 <= resp.status < 300:
        err = _status_error(resp, datetime.now(UTC))
        why = err.message if err is not None else f"HTTP {resp.status}"
        if resp.status == 410:
            why = "HTTP 410 Gone"
        raise UsageError(f"cannot add {url}: {why}")
    return resp


def discover(url: str, settings: Settings, user_agent: str) -> tuple[str, str | None, list[str]]:
    """The feed to follow for ``url`` (a feed, or a page naming feeds): (feed url, title, notes).

    Raises UsageError when the URL cannot be fetched or is neither a feed nor names one.
    """
    from companion.sources.feed_parse import looks_like_html, parse_feed

    resp = _fetch_for_add(url, settings, user_agent)
    notes: list[str] = []
    feed_url = resp.moved_to or url
    parsed: ParsedFeed | None = None
    if not looks_like_html(resp.body, resp.headers):
        try:
            parsed = parse_feed(resp.body, resp.headers, resp.url, "")
        except ParseError as e:
            raise UsageError(f"{url} is not a feed and names no feed ({e.message})") from e
        if resp.moved_to:
            notes.append(f"{url} moved permanently to {feed_url}; following the new URL")
        return feed_url, parsed.title or None, notes
    links = find_feed_links(resp.body, resp.url)
    if not links:
        raise UsageError(
            f"{url} is not a feed and names no feed (the page has no "
            '<link rel="alternate"> to an RSS, Atom or JSON feed)'
        )
    ranked = sorted(links, key=_rank)
    chosen, title = ranked[0]
    if len(links) > 1:
        others = ", ".join(u for u, _ in ranked[1:])
        notes.append(
            f"{url} names {len(links)} feeds; chose {chosen}"
            + (f" ({title})" if title else "")
            + f"; the others: {others}"
        )
    else:
        notes.append(f"found the feed {chosen} on {url}")
    fresp = _fetch_for_add(chosen, settings, user_agent)
    try:
        parsed = parse_feed(fresp.body, fresp.headers, fresp.url, "")
    except ParseError as e:
        raise UsageError(f"{url} names the feed {chosen}, but it is not a feed ({e.message})") from e
    return fresp.moved_to or chosen, parsed.title or title or None, notes
