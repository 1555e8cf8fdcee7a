"""Text typed in $EDITOR is never lost (issue 13.5): what can be checked is checked before the
editor opens, and what was written is kept as a draft whenever a later step fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from companion.credentials import Account
from companion.service import Companion
from companion.store import WriteLock
from tests.test_post import _feed_item, login, put_items, source_text, statuses

TYPED = "What I typed with care: spacing beats cramming, and here is why."


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$EDITOR is a script that types TYPED above the template and leaves a mark it ran."""
    mark = tmp_path / "editor.ran"
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        f"pathlib.Path({str(mark)!r}).write_text('ran')\n"
        f"p.write_text({TYPED!r} + p.read_text())\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    return mark


@pytest.mark.parametrize(("args", "message"), [
    (["--visibility", "bogus"], "bad --visibility 'bogus'"),
    (["--tag", "not a tag"], "bad --tag"),
    (["--on", "zzzzzz"], "no item with id 'zzzzzz'"),
    (["--account", "nobody"], "no account named 'nobody'"),
])
def test_bad_options_are_refused_before_the_editor_opens(
    cli: Any, mastodon: Any, editor: Path, args: list[str], message: str
) -> None:
    login(mastodon, "alice")
    result = cli("post", *args, code=2)
    assert message in result.stderr
    assert not editor.exists()  # nothing was typed, so nothing is lost


def test_no_account_is_said_before_the_editor_opens(cli: Any, editor: Path) -> None:
    result = cli("post", code=2)
    assert "run `pln login" in result.stderr
    assert not editor.exists()


def test_reply_to_a_feed_entry_is_refused_before_the_editor_opens(
    cli: Any, mastodon: Any, editor: Path
) -> None:
    login(mastodon, "alice")
    [item] = put_items(_feed_item())
    assert "not a status" in cli("post", "--reply-to", item, code=2).stderr
    assert not editor.exists()


def test_journal_busy_after_the_editor_keeps_the_text_in_a_file(
    cli: Any, mastodon: Any, editor: Path
) -> None:
    login(mastodon, "alice")
    home = Companion().home
    holder = WriteLock(home.journal_file.with_name("journal.lock"))
    holder.acquire("pln post (another one)")
    try:
        result = cli("post", code=1)
    finally:
        holder.release()
    assert editor.exists()
    assert "is writing to it" in result.stderr  # the journal is busy
    assert "your text is kept in " in result.stderr
    path = Path(result.stderr.split("your text is kept in ", 1)[1].split(":", 1)[0])
    assert path.read_text() == TYPED + "\n"
    assert f"pln post - < {path}" in result.stderr
    assert statuses(mastodon, "alice") == []


def test_a_failure_after_the_editor_keeps_a_draft_in_the_journal_to_finish_later(
    cli: Any, mastodon: Any, editor: Path
) -> None:
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name="alice", instance="http://127.0.0.1:9",
                                      token="alice_token", handle="@alice@mock.local"))
    result = cli("post", "--dry-run", "--tag", "edtech", code=1)  # the preview cannot reach it
    assert editor.exists()
    assert "unreachable" in result.stderr
    assert "your text is kept as draft " in result.stderr
    [draft] = json.loads(cli("drafts", "--json").stdout)
    assert draft["state"] == "draft" and draft["body"] == TYPED
    assert f"pln post --retry {draft['id']}" in result.stderr
    assert "kept: " in cli("drafts").stdout

    c = Companion()
    c.credentials.put_account(Account(name="alice", instance=mastodon.base_url,
                                      token="alice_token", handle="@alice@mock.local"))
    result = cli("post", "--retry", draft["id"])
    assert "posted to alice" in result.stdout
    [s] = statuses(mastodon, "alice")
    assert source_text(mastodon, "alice", s.id) == TYPED + "\n\n#edtech"
    [done] = json.loads(cli("journal", "--json").stdout)
    assert done["id"] == draft["id"] and done["state"] == "sent"


def test_text_given_on_the_command_line_is_not_kept_apart(cli: Any, mastodon: Any) -> None:
    """It is still in the shell's history: a failure says so once, and saves nothing else."""
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name="alice", instance="http://127.0.0.1:9",
                                      token="alice_token", handle="@alice@mock.local"))
    result = cli("post", "typed in the shell", "--dry-run", code=1)
    assert "kept" not in result.stderr
    assert not c.home.journal_file.exists()


def test_without_a_terminal_or_an_editor_post_asks_for_the_text(
    mastodon: Any, pln_home: Path
) -> None:
    """Run from a script or cron with no $EDITOR: no vi drawn on a pipe, waiting forever."""
    from tests.procs import pln

    login(mastodon, "alice")
    r = pln(pln_home, "post", timeout=30, input="", EDITOR="", VISUAL="")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == ('error: no text to post, and no terminal for an editor: give it, '
                                'pln post "…" or pln post - < file')
    assert statuses(mastodon, "alice") == [] and Companion().reflections().all() == []
