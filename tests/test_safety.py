"""Nothing hostile through (issue 12), through the real `pln` process: a total deadline per
feed request (a server dripping bytes or headers), only web links opened, passwords in feed
URLs never shown or exported, and `--json` with every dangerous character escaped."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.feedserver import FeedServer
from tests.proc import pln
from tests.test_terminal import follow, rss

# ----- 5. a total deadline per request ----------------------------------------------------------


def test_dripping_and_slow_header_servers_cannot_hold_a_sync(
        feed_server: FeedServer, pln_home: Path) -> None:
    body = rss(3)  # ~1 KB: at a byte every 0.3 s the drip would last ~5 minutes
    drip = feed_server.route("/drip.xml", body=body, drip=0.3)
    slow = feed_server.route("/slow-headers.xml", body=body, slow_headers=0.3)
    good = feed_server.route("/good.xml", body=body)
    follow(pln_home, drip, slow, good, settings="timeout = 2")  # the whole request: 3 x 2 s
    t0 = time.monotonic()
    r = pln("sync", "--json", timeout=60)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    res = {x["label"].rsplit("/", 1)[1]: x for x in json.loads(r.stdout)}
    for name in ("drip.xml", "slow-headers.xml"):
        assert res[name]["status"] == "error"
        assert res[name]["error"] == "response took longer than 6 s; gave up"
        assert res[name]["seconds"] < 9
    assert res["good.xml"]["status"] == "ok" and res["good.xml"]["new"] == 3
    assert took < 20


def test_feed_discovery_has_the_same_deadline(feed_server: FeedServer, pln_home: Path) -> None:
    follow(pln_home, settings="timeout = 2")
    drip = feed_server.route("/drip.xml", body=rss(3), drip=0.3)
    t0 = time.monotonic()
    r = pln("source", "add", drip, timeout=60)
    assert time.monotonic() - t0 < 20
    assert r.returncode == 2
    assert r.stderr == f"error: cannot add {drip}: response took longer than 6 s; gave up\n"


# ----- 6. only web links are opened -------------------------------------------------------------


def _browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    log = tmp_path / "browser.log"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\n')
    script.chmod(0o755)
    return {"BROWSER": str(script), "DISPLAY": ""}, log


@pytest.mark.parametrize("link", ["javascript:alert(document.cookie)", "file:///etc/passwd",
                                  "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                                  "vbscript:msgbox"])
def test_open_refuses_anything_but_http_links(
        link: str, feed_server: FeedServer, pln_home: Path, tmp_path: Path, cli: Any) -> None:
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Evil</title>'
            f"<item><title>Click me</title><link>{link}</link><guid>x-1</guid></item>"
            '<item><title>Fine</title><link>https://blog.example/fine</link><guid>x-2</guid>'
            "</item></channel></rss>")
    follow(pln_home, feed_server.route("/feed.xml", body=body))
    cli("sync")
    items = {i["title"]: i for i in json.loads(cli("inbox", "--json").stdout)}
    env, log = _browser(tmp_path)
    evil = items["Click me"]["id"]
    r = pln("open", evil, env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith(f"error: item {evil}: not opening ")
    assert r.stderr.rstrip().endswith("only http:// and https:// links are opened")
    assert not log.exists()  # the browser was never started
    assert json.loads(pln("show", evil, "--json", "--no-mark").stdout)["read"] is False
    r = pln("open", items["Fine"]["id"], env=env)
    assert r.returncode == 0 and log.read_text() == "https://blog.example/fine\n"


# ----- 8. credentials in feed URLs --------------------------------------------------------------


def test_passwords_in_feed_urls_are_never_shown_or_exported(
        feed_server: FeedServer, pln_home: Path, tmp_path: Path) -> None:
    port = feed_server.port
    feed_server.route("/feed.xml", body=rss(2))
    secret = f"http://dana:s3cr3t-pw@127.0.0.1:{port}/feed.xml"
    dead = "http://bob:hunter2@127.0.0.1:9/feed.xml"
    follow(pln_home, secret, dead)
    seen: list[str] = []

    def run(*args: str, code: int = 0) -> Any:
        r = pln(*args)
        seen.append(r.stdout + r.stderr)
        assert r.returncode == code, r.stdout + r.stderr
        return r

    run("sync")
    run("sync", "--json")
    listing = run("source", "list").stdout
    assert f"http://dana:***@127.0.0.1:{port}/feed.xml" in listing
    specs = [s["spec"] for s in json.loads(run("source", "list", "--json").stdout)]
    assert specs == [f"http://dana:***@127.0.0.1:{port}/feed.xml", "http://bob:***@127.0.0.1:9/feed.xml"]
    opml = run("source", "export").stdout
    assert f'xmlUrl="http://dana@127.0.0.1:{port}/feed.xml"' in opml
    assert "feed URLs are exported without their passwords" in seen[-1]
    run("source", "export", "-o", str(tmp_path / "subs.opml"))
    seen.append((tmp_path / "subs.opml").read_text())
    run("source", "add", "http://eve:topsecret@127.0.0.1:9/other.xml", code=2)
    run("source", "add", secret.replace("feed.xml", "feed.xml#again"), code=2)  # already followed
    run("inbox")
    everything = "\n".join(seen)
    for password in ("s3cr3t-pw", "hunter2", "topsecret"):
        assert password not in everything
    # ... and the feed that needs it is still fetched with it
    assert feed_server.requests[0][2].get("Authorization", "").startswith("Basic ")


# ----- 12. --json escapes what a terminal would obey -------------------------------------------


def test_json_escapes_bidi_overrides_and_c1_controls(
        feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    title = "invoice\u202egnp.exe \u009b31mred\u0085 zero\u200bwidth\u2028line del\u007f"
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"<item><title>{title}</title><link>https://b.example/1</link><guid>g1</guid>"
            f"<description>{title}</description></item></channel></rss>")
    follow(pln_home, feed_server.route("/feed.xml", body=body.encode("utf-8")))
    cli("sync")
    for args in (["inbox", "--json"], ["show", "", "--json", "--no-mark"], ["sync", "--json"],
                 ["source", "list", "--json"]):
        if args[0] == "show":
            args[1] = json.loads(pln("inbox", "--json").stdout)[0]["id"]
        raw = pln(*args).stdout
        for ch in ("\u202e", "\u009b", "\u0085", "\u200b", "\u2028", "\u007f"):
            assert ch not in raw, (args, repr(ch))
    raw = pln("inbox", "--json").stdout
    assert "\\u202e" in raw and "\\u009b" in raw
    assert json.loads(raw)[0]["title"].startswith("invoice\u202egnp.exe")  # the data as it came
