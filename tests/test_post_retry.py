"""`pln post` against servers that differ from mastodon_mock's defaults (issue 11.6, 11.7,
11.9, 12.2, 13.3): a loopback proxy (tests/proxy.py) in front of the real Mastodon API
drops the Idempotency-Key header, loses or holds responses, or counts as real Mastodon does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from companion.credentials import Account
from companion.reflections.thread import strip_suffix
from companion.service import Companion
from tests.proxy import Proxy, mastodon_length
from tests.test_post import LONG, drafts, source_text, statuses


def login_via(proxy: Proxy, user: str = "alice") -> None:
    """An account whose instance is the proxy in front of mastodon_mock."""
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name=user, instance=proxy.base_url,
                                      token=f"{user}_token", handle=f"@{user}@mock.local"))


@contextmanager
def keyless_proxy(mastodon: Any) -> Iterator[Proxy]:
    """A proxy in front of mastodon_mock that drops ``Idempotency-Key`` (a server that
    ignores it), with alice logged in through it."""
    with Proxy(mastodon.base_url) as proxy:
        proxy.drop_request_header("Idempotency-Key")
        login_via(proxy)
        yield proxy


def journal(home: Path) -> dict[str, Any]:
    """The only reflection in the journal file, as written on disk."""
    [refl] = json.loads((home / "journal.json").read_text())["reflections"].values()
    return refl


def assert_chain(srv: Any, user: str, refl: dict[str, Any], n: int) -> None:
    """Exactly ``n`` statuses on the server, each replying to the one before, and they are
    the reflection's parts as the journal records them."""
    on_server = statuses(srv, user)
    assert len(on_server) == n, [source_text(srv, user, s.id) for s in on_server]
    assert [s.in_reply_to_id for s in on_server] == [None] + [s.id for s in on_server[:-1]]
    parts = refl["accounts"][0]["parts"]
    assert [p["status_id"] for p in parts] == [s.id for s in on_server]
    assert [source_text(srv, user, s.id) for s in on_server] == [p["text"] for p in parts]


def pln(*args: str, home: Path) -> subprocess.Popen[str]:
    """The real `pln` in a process of its own."""
    env = {**os.environ, "PLN_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.Popen([sys.executable, "-m", "companion", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@contextmanager
def running(*args: str, home: Path) -> Iterator[subprocess.Popen[str]]:
    """`pln ARGS` in a process of its own, killed and reaped on the way out, whatever the
    test did to it."""
    proc = pln(*args, home=home)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def wait_for_part(home: Path, n: int, state: str, timeout: float = 20.0) -> dict[str, Any]:
    """Watch the journal until part ``n`` is in ``state``; returns the reflection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            refl = journal(home)
            parts = refl["accounts"][0]["parts"]
            if len(parts) >= n and parts[n - 1]["state"] == state:
                return refl
        except (OSError, ValueError, KeyError):
            pass  # not written yet
        time.sleep(0.005)
    raise AssertionError(f"part {n} never was {state!r} in the journal")


# ----- 11.6: after a failure of unknown outcome, look before sending again ---------------------


@pytest.mark.parametrize("loss", ["lose", "timeout", "bad_gateway"])
def test_retry_looks_on_the_server_first_when_it_ignores_the_idempotency_key(
    cli: Any, mastodon: Any, loss: str
) -> None:
    with keyless_proxy(mastodon) as proxy:
        if loss == "timeout":
            Companion().home.config_file.write_text("[settings]\ntimeout = 2\n")
            proxy.plan[2] = "hold_after"  # the server made part 2; its answer comes too late
        else:
            proxy.plan[2] = loss
        result = cli("post", LONG, code=1)
        proxy.release(2)
        assert "may or may not have arrived" in result.stderr or "502" in result.stderr
        assert len(statuses(mastodon, "alice")) == 2  # the server did make part 2
        [refl] = drafts(cli)
        assert refl["accounts"][0]["parts"][1]["ambiguous"] is True

        proxy.plan.clear()
        Companion().home.config_file.write_text("[settings]\ntimeout = 20\n")
        result = cli("post", "--retry", refl["id"])  # at once: well within the key's hour
        assert "posted to alice @alice@mock.local: 4 parts" in result.stdout
        [done] = json.loads(cli("journal", "--json").stdout)
        assert_chain(mastodon, "alice", done, 4)  # part 2 was found, not sent twice
        assert done["accounts"][0]["parts"][1]["note"] == "found on the instance after a lost response"
        assert proxy.count(r"^/api/v1/statuses", "POST") == 4  # 1, 2 (lost); then 3 and 4


def test_a_rejection_is_known_so_the_retry_sends_without_looking(cli: Any, mastodon: Any) -> None:
    with keyless_proxy(mastodon) as proxy:
        mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="latency", count=1)
        mastodon.fault(path="/api/v1/statuses", methods=["POST"], status=422, count=1,
                       body={"error": "Validation failed: Text contains a banned word"})
        cli("post", LONG, code=1)
        [refl] = drafts(cli)
        assert refl["accounts"][0]["parts"][1]["ambiguous"] is False
        proxy.reset()
        cli("post", "--retry", refl["id"])
        assert proxy.count(r"^/api/v1/accounts/", "GET") == 0  # no look at the account's statuses
        [done] = json.loads(cli("journal", "--json").stdout)
        assert_chain(mastodon, "alice", done, 4)


def test_a_status_made_before_the_first_attempt_is_not_taken_for_the_part(
    mastodon: Any,
) -> None:
    """The look matches text, CW and the status replied to, and only statuses made since the
    first attempt: an older status with the same words is not the lost part."""
    from datetime import UTC, datetime, timedelta

    with keyless_proxy(mastodon) as proxy:
        Companion().home.config_file.write_text("[settings]\ntimeout = 2\n")
        mastodon.client("alice").status_post("Same words as before.")
        later = datetime.now(UTC) + timedelta(hours=1)  # pln's first attempt, an hour on
        proxy.plan[1] = "hold"  # pln's request never reaches the server
        refl = Companion(clock=lambda: later).post_reflection("Same words as before.")
        proxy.release(1, forward=False)
        assert refl["accounts"][0]["parts"][0]["ambiguous"] is True
        Companion().home.config_file.write_text("[settings]\ntimeout = 20\n")
        done = Companion(clock=lambda: later).retry_reflection(refl["id"])
        assert done["state"] == "sent"
        assert "note" not in done["accounts"][0]["parts"][0]
        assert len(statuses(mastodon, "alice")) == 2  # sent, not mistaken for the old one


# ----- 12.2: "sending part k" is in the journal before the request -----------------------------


def test_a_killed_post_leaves_sending_in_the_journal_and_the_retry_does_not_double(
    cli: Any, mastodon: Any, pln_home: Path
) -> None:
    with keyless_proxy(mastodon) as proxy:
        proxy.plan[3] = "hold"
        with running("post", LONG, home=pln_home) as proc:
            proxy.wait_for("arrived", 3)
            refl = journal(pln_home)  # while the request for part 3 is under way
            assert [p["state"] for p in refl["accounts"][0]["parts"]] == [
                "sent", "sent", "sending", "pending"]
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        proxy.release(3)  # the request was on the wire: the server makes part 3 all the same
        proxy.wait_for("created", 3)
        result = cli("post", "--retry", refl["id"])
        assert "posted to alice @alice@mock.local: 4 parts" in result.stdout
        assert_chain(mastodon, "alice", journal(pln_home), 4)


# ----- 13.3: Ctrl-C ----------------------------------------------------------------------------


def test_ctrl_c_stops_at_once_records_what_was_sent_and_retry_completes(
    cli: Any, mastodon: Any, pln_home: Path
) -> None:
    with keyless_proxy(mastodon) as proxy:
        proxy.plan[3] = "hold_after"  # the server made part 3; pln is waiting for the answer
        proc = pln("post", LONG, home=pln_home)
        try:
            proxy.wait_for("created", 3)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
            took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
        proxy.release(3)
        assert proc.returncode == 130
        assert took < 1.0
        assert out == ""
        refl = journal(pln_home)
        assert err.splitlines() == [(
            f"error: interrupted: 2 of 4 parts sent; part 3 may have arrived — reflection "
            f"{refl['id']} is saved in the journal: run `pln post --retry {refl['id']}` to "
            "finish it"
        )]
        parts = refl["accounts"][0]["parts"]
        assert [p["state"] for p in parts] == ["sent", "sent", "failed", "pending"]
        assert parts[2]["ambiguous"] is True
        assert len(statuses(mastodon, "alice")) == 3

        cli("post", "--retry", refl["id"])
        assert_chain(mastodon, "alice", journal(pln_home), 4)


# ----- 11.7: the content warning counts; a part refused for its length is split again ------------


def test_cw_counts_against_the_limit_as_mastodon_counts_it(cli: Any, mastodon: Any) -> None:
    words = ("Retrieval practice works because recalling is effortful and effort builds "
             "memory; my students grumbled and then asked for more quizzes. ")
    text = (words * 4)[:480].rsplit(" ", 1)[0]
    cw = "assessment, long read, teaching notes"  # 37 characters
    assert len(text) + len(cw) > 500 >= len(text)
    with Proxy(mastodon.base_url) as proxy:
        proxy.refuse_long_statuses(500)  # Mastodon's count, not the mock's
        login_via(proxy)
        refl = json.loads(cli("post", text, "--cw", cw, "--json").stdout)
        assert refl["state"] == "sent"
        on_server = statuses(mastodon, "alice")
        assert len(on_server) == 2
        for s in on_server:
            assert s.spoiler_text == cw
            assert mastodon_length(source_text(mastodon, "alice", s.id), cw) <= 500
        bodies = [strip_suffix(source_text(mastodon, "alice", s.id)) for s in on_server]
        assert " ".join(bodies).split() == text.split()
        preview = cli("post", text, "--cw", cw, "--dry-run").stdout
        assert "2 parts" in preview and "/500 characters ──" in preview


def test_retry_splits_again_what_the_server_refused_as_too_long(cli: Any, mastodon: Any) -> None:
    """mastodon_mock counts a URL as written, not as 23: a server that does so refuses a part
    pln cut for Mastodon's count. The retry splits the parts not yet posted again."""
    url = "https://ex.org/" + "a-long-path-segment/" * 4 + "end"  # 98 characters
    plain = ("Spacing the quizzes across weeks needs a plan and a shared sheet of questions. "
             * 5).strip()
    links = " ".join(f"see {url}/{n} now." for n in range(6))  # ~700 raw, ~200 as Mastodon counts
    text = f"{plain}\n\n{links}\n\n{plain}"
    login_via_server = Companion()
    login_via_server.home.ensure()
    login_via_server.credentials.put_account(Account(
        name="alice", instance=mastodon.base_url, token="alice_token", handle="@alice@mock.local"))
    result = cli("post", text, code=1)
    assert "refused the post as too long (422)" in result.stderr
    assert "splits the parts not yet posted again" in result.stderr
    sent_first = len(statuses(mastodon, "alice"))
    assert sent_first >= 1
    [refl] = drafts(cli)

    result = cli("post", "--retry", refl["id"])
    assert "posted to alice" in result.stdout
    [done] = json.loads(cli("journal", "--json").stdout)
    parts = done["accounts"][0]["parts"]
    assert_chain(mastodon, "alice", done, len(parts))
    assert all(len(p["text"]) <= 500 for p in parts)  # as this server counts
    assert [p["n"] for p in parts] == list(range(1, len(parts) + 1))
    assert parts[-1]["text"].endswith(f" {len(parts)}/{len(parts)}")
    bodies = [strip_suffix(p["text"]) for p in parts]
    assert " ".join(bodies).split() == text.split()  # nothing lost, nothing twice, in order
    keys = [p["idempotency_key"] for p in parts]
    assert len(set(keys)) == len(keys)


# ----- 11.9: nothing sent; the instance asked once ---------------------------------------------


def test_a_timeout_before_anything_was_sent_says_nothing_was_sent(cli: Any, mastodon: Any) -> None:
    with Proxy(mastodon.base_url) as proxy:
        login_via(proxy)
        Companion().home.config_file.write_text("[settings]\ntimeout = 1\n")
        mastodon.fault(path_regex=r"^/api/v[12]/instance", type="latency", delay_ms=1600,
                       count=1)
        result = cli("post", "A thought for a slow server.", code=1)
        assert "alice @alice@mock.local: nothing was sent" in result.stdout
        assert "nothing was sent" in result.stderr
        assert "may or may not" not in result.stdout + result.stderr
        assert "0 of ?" not in result.stdout + result.stderr
        assert proxy.count(r"^/api/v1/statuses", "POST") == 0
        [refl] = drafts(cli)
        time.sleep(0.7)  # the server's slow answer to the first request is over
        Companion().home.config_file.write_text("[settings]\ntimeout = 20\n")
        cli("post", "--retry", refl["id"])
        assert len(statuses(mastodon, "alice")) == 1


def test_reply_to_asks_for_the_instance_once(cli: Any, mastodon: Any) -> None:
    from tests.test_post import _status_item, put_items

    with Proxy(mastodon.base_url) as proxy:
        login_via(proxy)
        data, source, s = _status_item(mastodon, "bob", "How do you space quizzes?")
        [item] = put_items((data, source))
        cli("post", "Every two weeks.", "--reply-to", item)
        instance = [r for r in proxy.requests if "/instance" in r.route]
        assert len(instance) == 1, proxy.requests
        [mine] = statuses(mastodon, "alice")
        assert mine.in_reply_to_id == s.id
