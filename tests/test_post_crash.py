"""Crash test of `pln post` (issue 12, "Keep the campaign"): the real `pln` posting a 6-part
thread is killed with SIGKILL at each part — once while the part's request has not reached
the server, once after the server has made the status but before pln heard back — against a
server that ignores Idempotency-Key (the proxy drops it). After each kill, `pln post
--retry` must leave exactly six statuses on the server, each replying to the one before, and
the journal must name them.

The kill points are found by watching the journal: part k shows ``sending`` before its
request leaves pln; the proxy holds that request (or its answer) so that the kill lands
while the part's fate is unknown to pln.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.proxy import Proxy
from tests.test_post import PARAS
from tests.test_post_retry import journal, login_via, running, wait_for_part

SIX = "\n\n".join([
    *PARAS,
    ("A fifth paragraph, so that the thread is long enough: exit tickets are the other half of "
    "it. Two questions at the end of the lesson, one about today and one about last month, "
    "tell me more than a test at the end of the unit. I read them on the bus home and plan "
    "the next lesson from them. The students know I read them, and that changes how they "
    "answer: fewer guesses, more honest 'I don't know yet', which is what I want to hear."),
    ("And a sixth: none of this is new. The research on retrieval and spacing is decades old, "
    "and teachers have done versions of it forever. What is new for me is doing it on "
    "purpose, every lesson, and keeping notes on what happens. These notes are the start of "
    "that. If you want to compare notes, reply here or find me under the usual hashtags; I "
    "will write up the unit test comparison when the marks are in, in about six weeks."),
])

KILLS = [(k, when) for k in range(1, 7) for when in ("before the server", "after the server")]


@pytest.fixture
def proxy(mastodon: Any) -> Any:
    with Proxy(mastodon.base_url) as p:
        p.drop_request_header("Idempotency-Key")  # a server that ignores it
        yield p


def assert_thread(srv: Any, refl: dict[str, Any]) -> None:
    """Exactly six statuses on the server, each replying to the one before, and they are the
    parts the journal records, in order. Then they are deleted, for the next trial."""
    m = srv.client("alice")
    on_server = list(reversed(m.account_statuses(m.me().id, limit=40)))
    parts = refl["accounts"][0]["parts"]
    assert len(on_server) == 6, [s.content for s in on_server]
    assert [s.in_reply_to_id for s in on_server] == [None] + [s.id for s in on_server[:-1]]
    assert [p["status_id"] for p in parts] == [s.id for s in on_server]
    assert [p["state"] for p in parts] == ["sent"] * 6
    for st in on_server:
        m.status_delete(st.id)


def test_sigkill_at_every_part_then_retry_posts_each_part_exactly_once(
    cli: Any, mastodon: Any, proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    survived = 0
    for k, when in KILLS:
        proxy.reset()
        home = tmp_path / f"kill-{k}-{when.split()[0]}"
        monkeypatch.setenv("PLN_HOME", str(home))
        login_via(proxy)
        before = when == "before the server"
        proxy.plan[k] = "hold" if before else "hold_after"
        with running("post", SIX, home=home) as proc:
            proxy.wait_for("arrived" if before else "created", k)  # the request is out
            refl = wait_for_part(home, k, "sending")  # and the journal says so: the kill point
            assert len(refl["accounts"][0]["parts"]) == 6
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        proxy.plan.clear()
        proxy.release(k, forward=False)  # before: the request never reaches the server
        assert proc.returncode == -signal.SIGKILL
        assert proxy.events.count(("created", k)) == (0 if before else 1), (k, when)

        result = cli("post", "--retry", refl["id"])
        assert "posted to alice @alice@mock.local: 6 parts" in result.stdout, (k, when)
        assert_thread(mastodon, journal(home))
        survived += 1
    assert survived == len(KILLS) == 12
