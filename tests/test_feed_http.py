"""The HTTP layer of feed sync (urllib3 used directly), against real servers on loopback:
redirect chains and their cap, kept-alive connections, bodies left unread, credentials in
URLs, proxies from the environment, and the errors a user reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from companion.config import Settings
from companion.errors import FetchError
from companion.sources import feed
from tests.feedserver import FeedServer
from tests.test_feed_sync import FEED, follow, sync


@pytest.fixture(autouse=True)
def _fresh_connections() -> Iterator[None]:
    """Each test starts and ends without kept-alive connections (they are per process)."""
    feed.close()
    yield
    feed.close()


def get(url: str, **kw: Any) -> feed.Response:
    return feed.http_get(url, Settings(), "pln-test/1", **kw)


def test_permanent_chain_reports_the_end(feed_server: FeedServer) -> None:
    feed_server.route("/a", status=301, headers={"Location": "/b"})
    feed_server.route("/b", status=308, headers={"Location": feed_server.url("/c")})
    end = feed_server.route("/c", body=FEED)
    resp = get(feed_server.url("/a"))
    assert resp.status == 200 and resp.body == FEED.encode()
    assert resp.moved_to == end and resp.url == end


def test_temporary_hop_ends_the_permanent_chain(feed_server: FeedServer) -> None:
    feed_server.route("/a", status=301, headers={"Location": "/b"})
    feed_server.route("/b", status=302, headers={"Location": "/c"})
    feed_server.route("/c", status=301, headers={"Location": "/d"})
    end = feed_server.route("/d", body=FEED)
    resp = get(feed_server.url("/a"))
    assert resp.moved_to == feed_server.url("/b") and resp.url == end
    feed_server.route("/t", status=307, headers={"Location": "/u"})
    feed_server.route("/u", status=301, headers={"Location": "/d"})
    resp = get(feed_server.url("/t"))
    assert resp.moved_to is None and resp.url == end


def test_validators_follow_redirects(feed_server: FeedServer) -> None:
    feed_server.route("/old", status=301, headers={"Location": "/new"})
    feed_server.route("/new", body=FEED, etag='"v1"')
    resp = get(feed_server.url("/old"), etag='"v1"')
    assert resp.status == 304 and resp.body == b"" and resp.moved_to == feed_server.url("/new")


def test_redirect_cap(feed_server: FeedServer) -> None:
    for i in range(11):
        feed_server.route(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    feed_server.route("/r11", body=FEED)
    assert get(feed_server.url("/r1")).status == 200  # exactly 10 redirects: followed
    with pytest.raises(FetchError) as e:
        get(feed_server.url("/r0"))  # 11
    assert e.value.message == "more than 10 redirects"


def test_redirect_loop_through_the_cli(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/loop", status=301, headers={"Location": "/loop"})
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["error"] == "more than 10 redirects"
    assert feed_server.hits("/loop") == 11
    assert f'url = "{url}"' in (pln_home / "config.toml").read_text()


def test_redirect_without_location_is_a_response(feed_server: FeedServer) -> None:
    feed_server.route("/odd", status=301, body="no location", content_type="text/plain")
    resp = get(feed_server.url("/odd"))
    assert resp.status == 301 and resp.moved_to is None


def test_error_status_with_endless_body_is_not_read(
    feed_server: FeedServer, pln_home: Path, cli: Any
) -> None:
    url = feed_server.route("/broken", status=500, endless=True)
    ok = feed_server.route("/ok.xml", body=FEED)
    follow(pln_home, url, ok)
    res = sync(cli)
    assert res[url]["error"] == "HTTP 500 Internal Server Error"
    assert res[ok]["status"] == "ok" and res[ok]["new"] == 2


def test_http_errors_are_plain_sentences(feed_server: FeedServer) -> None:
    cases = {
        "ftp://127.0.0.1/feed.xml": "invalid URL 'ftp://127.0.0.1/feed.xml'",
        "http://127.0.0.1:99999/feed.xml": "invalid URL 'http://127.0.0.1:99999/feed.xml'",
        "http://127.0.0.1:9/feed.xml": "cannot reach 127.0.0.1:9: connection refused",
    }
    for url, message in cases.items():
        with pytest.raises(FetchError) as e:
            get(url)
        assert e.value.message == message


def test_connections_are_kept_alive(feed_server: FeedServer) -> None:
    for i in range(20):
        feed_server.route(f"/feed/{i}.xml", body=b"<rss/>", etag='"x"')
    for i in range(20):
        assert get(feed_server.url(f"/feed/{i}.xml"), etag='"x"').status == 304
    assert len(feed_server.client_ports) == 20 and len(set(feed_server.client_ports)) == 1


def test_credentials_in_the_url(feed_server: FeedServer) -> None:
    feed_server.route("/private.xml", body=FEED)
    url = feed_server.url("/private.xml").replace("http://", "http://ada:s%3Acret@")
    assert get(url).body == FEED.encode()
    _, path, headers = feed_server.requests[-1]
    assert path == "/private.xml"
    assert headers["Authorization"] == "Basic YWRhOnM6Y3JldA=="  # ada:s:cret


def test_credentials_stay_with_their_host(feed_server: FeedServer) -> None:
    other = feed_server.url("/elsewhere.xml").replace("127.0.0.1", "localhost")
    feed_server.route("/private.xml", status=302, headers={"Location": other})
    feed_server.route("/elsewhere.xml", body=FEED)
    url = feed_server.url("/private.xml").replace("http://", "http://ada:secret@")
    assert get(url).status == 200
    sent = {path: headers for _, path, headers in feed_server.requests}
    assert "Authorization" in sent["/private.xml"]
    assert "Authorization" not in sent["/elsewhere.xml"]


def test_proxy_from_the_environment(feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy sees absolute request targets: the feed server, routed by full URL, plays one."""
    target = "http://feeds.invalid/feed.xml"
    feed_server.route(target, body=FEED)
    monkeypatch.setenv("http_proxy", feed_server.base_url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert get(target).body == FEED.encode()
    assert feed_server.requests[-1][1] == target
    monkeypatch.setenv("no_proxy", "localhost,.invalid")
    with pytest.raises(FetchError) as e:
        get(target)
    assert e.value.message == "cannot reach feeds.invalid: host name not found (DNS)"


def test_undecodable_body(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=FEED, headers={"Content-Encoding": "gzip"})
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["error"].startswith("bad response body: ")
    assert "gzip" in res["error"]


def test_non_ascii_redirect_target(feed_server: FeedServer) -> None:
    feed_server.route("/caf%C3%A9.xml", body=FEED)
    # http.server sends header values as latin-1: this is what a UTF-8 Location looks like.
    raw = "/café.xml".encode().decode("latin-1")
    feed_server.route("/old", status=301, headers={"Location": raw})
    resp = get(feed_server.url("/old"))
    assert resp.status == 200 and resp.moved_to == feed_server.url("/café.xml")


def test_warm_feed_sync_imports_only_what_it_needs(
    feed_server: FeedServer, pln_home: Path, cli: Any
) -> None:
    """A sync where every feed answers 304 loads neither Mastodon's stack (requests and
    charset_normalizer with it) nor any parser."""
    import os
    import subprocess
    import sys

    url = feed_server.route("/feed.xml", body=FEED, etag='"v1"')
    follow(pln_home, url)
    assert sync(cli)[url]["new"] == 2
    code = (
        "import sys; sys.argv = ['pln', 'sync']\n"
        "from companion.cli.app import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('mastodon', 'requests', 'charset_normalizer', 'feedparser',"
        " 'lxml', 'nh3', 'inscriptis', 'companion.sources.feed_parse', 'companion.sources.mastodon')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy, 'urllib3' in sys.modules, file=sys.stderr)\n"
    )
    repo = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ), capture_output=True,
                       check=False,
                       text=True, cwd=repo)
    assert "0 ok, 1 not modified, 0 errors; 0 new" in r.stdout, r.stderr
    assert "HEAVY [] True" in r.stderr, r.stderr
    assert feed_server.requests[-1][2]["If-None-Match"] == '"v1"'
