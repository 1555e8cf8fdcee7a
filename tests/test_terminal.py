"""Everyday use in a terminal (issue 13), through the real `pln` process: the README's
one-liner and exit codes, the pager, Ctrl-C, the column layout at 80 and 200 columns,
reading width, stdout/stderr, help and completion. Behaviour that depends on a terminal runs
on a pseudo-terminal (tests/proc.py)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.feedserver import FeedServer
from tests.proc import REPO, Pty, pln, run_pty, screen_lines
from tests.test_feed_sync import follow

NOW = datetime.now(UTC).replace(microsecond=0)


def rss(n: int, *, title: str = "Post {i}", text: str = "Body of post {i}.", tags: str = "",
        name: str = "Dana teaches math", base: str = "https://blog.example") -> str:
    """An RSS 2.0 feed of ``n`` items, newest first."""
    items = "".join(
        f"<item><title>{title.format(i=i)}</title><link>{base}/posts/{i}</link>"
        f"<guid>{base}/posts/{i}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(hours=i + 1), usegmt=True)}</pubDate>"
        + "".join(f"<category>{t}</category>" for t in tags.split() if t)
        + f"<description>{text.format(i=i)}</description></item>"
        for i in range(n)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}'
            f"</title><link>{base}/</link>{items}</channel></rss>")


def shell(script: str, tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a shell line with this checkout's `pln` first on PATH (as `pip install .` puts it)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script_path = bindir / "pln"
    script_path.write_text(f'#!/bin/sh\ncd "{REPO}" && exec "{sys.executable}" -c '
                           f'"from companion.cli.app import main; main()" "$@"\n')
    script_path.chmod(script_path.stat().st_mode | stat.S_IXUSR)
    full = {**os.environ, **(env or {}), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["sh", "-c", script], check=False, capture_output=True, text=True, env=full,
                          timeout=120, cwd=tmp_path)


# ----- 1. exit codes: the README's first command ----------------------------------------------


def test_readme_one_liner_shows_the_inbox_when_one_source_is_dead(
        feed_server: FeedServer, pln_home: Path, tmp_path: Path) -> None:
    good = feed_server.route("/feed.xml", body=rss(3))
    follow(pln_home, good, "http://127.0.0.1:9/dead.xml")
    r = shell("pln sync && pln inbox", tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0].endswith("http://127.0.0.1:9/dead.xml: error cannot reach 127.0.0.1:9: "
                           "connection refused")
    assert out[1] == "1 ok, 0 not modified, 1 error; 3 new"
    assert out[2].split() == ["id", "age", "from", "title"]  # then the inbox
    assert [line.split()[-2:] for line in out[3:]] == [["Post", "0"], ["Post", "1"], ["Post", "2"]]
    assert "1 source failed; everything else was stored" in r.stderr


def test_readme_one_liner_offline_ends_with_the_empty_inbox_and_why(
        pln_home: Path, tmp_path: Path) -> None:
    # no network: every host refuses (loopback ports nobody listens on)
    follow(pln_home, "http://127.0.0.1:9/a.xml", "http://127.0.0.1:1/b.xml")
    with (pln_home / "config.toml").open("a") as f:
        f.write('\n[[sources]]\nuser = "@dana@127.0.0.1:9"\n')
    r = shell("pln sync && pln inbox", tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-2:] == [
        "0 ok, 0 not modified, 3 errors; 0 new",
        ("the inbox is empty: no source could be synced yet (3 of 3 failed at the last sync; "
         "`pln source list` says why)"),
    ]
    assert "no source could be synced (3 failed; is the network down?)" in r.stderr
    assert "Traceback" not in r.stderr


def test_sync_that_cannot_run_is_exit_1_so_scripts_can_tell(
        feed_server: FeedServer, pln_home: Path) -> None:
    follow(pln_home, feed_server.route("/feed.xml", body=rss(1)))
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import time
            from companion.service import Companion
            with Companion().writing("pln sync"):
                print("locked", flush=True)
                time.sleep(30)
            """)], cwd=REPO, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        r = pln("sync", env={"PLN_LOCK_TIMEOUT": "0.3"})
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 1 and "busy" in r.stderr
    assert r.stdout == ""  # nothing was synced, nothing reported as synced


def test_empty_inbox_messages_say_what_is_going_on(feed_server: FeedServer, pln_home: Path) -> None:
    follow(pln_home, feed_server.route("/feed.xml", body=rss(2)))
    assert pln("inbox").stdout == "the inbox is empty: run `pln sync` to fetch your 1 sources\n"
    assert pln("sync").returncode == 0
    ids = [i["id"] for i in json.loads(pln("inbox", "--json").stdout)]
    assert pln("read", *ids).returncode == 0
    assert pln("inbox").stdout == "nothing to read (use --all to include read items)\n"
    # 17: an empty --starred says so, not "unread only"
    assert pln("inbox", "--starred").stdout == "no starred items (star one with `pln star ID`)\n"


# ----- 2. the pager -----------------------------------------------------------------------------


@pytest.fixture
def long_inbox(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    """60 unread items: longer than a 24-line terminal."""
    follow(pln_home, feed_server.route("/feed.xml", body=rss(60, tags="edtech")))
    cli("sync")


def test_stock_less_shows_colours_not_escape_codes(long_inbox: None) -> None:
    assert Path("/usr/bin/less").exists(), "the pager test needs less (.ci/run installs it)"
    env = {"TERM": "xterm-256color", "PATH": "/usr/bin:/bin"}
    term = Pty("inbox", cols=100, rows=24, env=env, drop=("COLUMNS", "LINES", "LESS", "PAGER",
                                                          "NO_COLOR", "PLN_PAGER"))
    screen = term.read_until(lambda s: "Post 20" in s)
    term.send("q")
    res = term.wait()
    assert res.code == 0
    assert "ESC[" not in screen  # what less shows for a raw escape without -R
    assert "\x1b[1m" in screen  # bold ids, passed through with -R


def _recording_pager(tmp_path: Path) -> tuple[str, Path]:
    log = tmp_path / "pager.log"
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\necho "LESS=$LESS" > "{log}"\ncat >> "{log}"\n')
    script.chmod(0o755)
    return str(script), log


def test_pager_gets_less_frx_unless_set_and_plain_text_without_colour(
        long_inbox: None, tmp_path: Path) -> None:
    pager, log = _recording_pager(tmp_path)
    run_pty("inbox", env={"PAGER": pager, "TERM": "xterm-256color"}, cols=100,
            drop=("COLUMNS", "LINES", "LESS", "PLN_PAGER"))
    text = log.read_text()
    assert text.startswith("LESS=FRX\n")
    assert "Post 59" in text and "\x1b" not in text  # NO_COLOR (set by the tests): plain text
    run_pty("inbox", env={"PAGER": pager, "LESS": "-i", "TERM": "xterm-256color"}, cols=100)
    assert log.read_text().startswith("LESS=-i\n")  # the user's own LESS is kept


# ----- 3. Ctrl-C ---------------------------------------------------------------------------------


def test_ctrl_c_while_waiting_is_one_line_and_exit_130(pln_home: Path) -> None:
    follow(pln_home)
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import time\nfrom companion.service import Companion\n"
                                "with Companion().writing('pln sync'):\n"
                                " print('locked', flush=True)\n time.sleep(30)")],
        cwd=REPO, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        term = Pty("read", "--all", env={"PLN_LOCK_TIMEOUT": "20"})
        time.sleep(1.0)  # `pln read --all` is waiting for the lock
        t0 = time.monotonic()
        term.interrupt()
        res = term.wait(10)
    finally:
        holder.kill()
        holder.wait()
    assert res.code == 130
    assert time.monotonic() - t0 < 2
    lines = [line for line in screen_lines(res.output) if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted"), res.output
    assert "Traceback" not in res.output


def test_ctrl_c_during_import_changes_nothing(pln_home: Path, tmp_path: Path) -> None:
    follow(pln_home, "https://kept.example/feed")
    before = (pln_home / "config.toml").read_bytes()
    opml = tmp_path / "big.opml"
    outlines = "".join(f'<outline type="rss" text="Blog {i}" xmlUrl="https://b{i}.example/feed"/>'
                       for i in range(50000))
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>')
    term = Pty("source", "import", str(opml))
    time.sleep(1.5)  # importing 50,000 outlines takes several times longer than this
    term.interrupt()
    res = term.wait(20)
    assert res.code == 130, res.output
    lines = [line for line in screen_lines(res.output) if line.strip()]
    assert lines == ["interrupted: nothing was imported; config.toml is unchanged"]
    assert (pln_home / "config.toml").read_bytes() == before


# ----- 7. columns: the title first, wide terminals used ----------------------------------------


@pytest.fixture
def varied_inbox(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    """A few items from a source with a long name and long tags."""
    body = rss(5, title="A rather long title about teaching fractions with paper strips {i}",
               tags="mathematics fractions primaryschool", name="The Very Long Blog Name of Dana")
    cli("source", "add", feed_server.route("/feed.xml", body=body))  # named after the feed
    cli("sync")


def test_layout_at_80_columns_gives_the_title_room(varied_inbox: None) -> None:
    res = run_pty("inbox", cols=80, rows=40, env={"TERM": "xterm-256color"})
    lines = [line for line in screen_lines(res.output) if line]
    assert res.code == 0 and len(lines) == 6
    assert all(len(line) <= 80 for line in lines)
    header = lines[0]
    title_at = header.index("title")
    rest = header[title_at:].split()
    width = (header.index(rest[1]) - title_at - 1) if len(rest) > 1 else 80 - title_at
    assert width >= 40  # was 10-12 beside a 22-character "from"
    assert "A rather long title about teaching" in lines[1]


def test_layout_at_200_columns_cuts_nothing(varied_inbox: None) -> None:
    res = run_pty("inbox", cols=200, rows=40)  # (TERM=dumb: the real width all the same)
    lines = [line for line in screen_lines(res.output) if line]
    assert "…" not in "\n".join(lines)  # title, source name and tags all whole
    assert "#mathematics #fractions #primaryschool" in lines[1]
    assert "The Very Long Blog Name of Dana" in lines[1]


# ----- 8. reading width, URLs whole -------------------------------------------------------------


URL = "https://www.example.org/2026/11/a-very-long-path/that-goes-on/and-on-and-on?with=query&and=more"


@pytest.fixture
def long_item(feed_server: FeedServer, pln_home: Path, cli: Any) -> str:
    para = ("Fold, cut, compare: my year 5s finally saw why three quarters is more than two "
            "thirds, and then they explained it to each other for the rest of the lesson. ") * 2
    body = rss(1, text=f"&lt;p&gt;{para}See {URL.replace('&', '&amp;amp;')} for the "
                       f"worksheet.&lt;/p&gt;&lt;p&gt;{para}&lt;/p&gt;")
    follow(pln_home, feed_server.route("/feed.xml", body=body))
    cli("sync")
    return str(json.loads(cli("inbox", "--json").stdout)[0]["id"])


@pytest.mark.parametrize("cols,limit", [(80, 80), (200, 100)])
def test_show_wraps_prose_to_the_reading_width_and_keeps_urls_whole(
        long_item: str, cols: int, limit: int) -> None:
    res = run_pty("show", long_item, cols=cols, rows=60)
    lines = screen_lines(res.output)
    assert res.code == 0
    assert any(URL in line for line in lines)  # on one line, never broken
    prose = [line for line in lines if URL not in line]
    assert max(len(line) for line in prose) <= limit
    assert sum("Fold, cut, compare" in line for line in lines) == 4  # both paragraphs kept


# ----- 9. results on stdout, progress on stderr -------------------------------------------------


def test_sync_results_go_to_stdout(feed_server: FeedServer, pln_home: Path, tmp_path: Path) -> None:
    follow(pln_home, feed_server.route("/feed.xml", body=rss(2)), "http://127.0.0.1:9/x.xml")
    r = shell("pln sync > log", tmp_path)
    text = (tmp_path / "log").read_text()
    assert r.returncode == 0
    assert text.splitlines()[-1] == "1 ok, 0 not modified, 1 error; 2 new"
    assert "x.xml: error cannot reach 127.0.0.1:9" in text
    assert "error cannot reach" not in r.stderr and "new" not in r.stderr
    js = pln("sync", "--json")
    assert [r["status"] for r in json.loads(js.stdout)] == ["not_modified", "error"]


# ----- 10. help and completion --------------------------------------------------------------------


COMMANDS = ["sync", "inbox", "show", "read", "unread", "star", "unstar", "open", "prune", "login",
            "accounts", "logout", "post", "journal", "drafts", "init", "source add",
            "source list", "source rm", "source import", "source export"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_placeholders_and_keeps_examples_whole(command: str) -> None:
    r = pln(*command.split(), "--help", env={"COLUMNS": "80"})
    assert r.returncode == 0
    assert not re.search(r"<\w+>|\{\w+\}", r.stdout), r.stdout  # <str>, {item} …
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"Usage: pln {command}")
    examples = [n for n, line in enumerate(lines) if line.strip().startswith("Example")]
    assert examples, f"no example in pln {command} --help"
    for n in range(examples[0], len(lines)):
        if not lines[n].strip():
            break
        cmd = lines[n].split(":", 1)[1] if "Example" in lines[n] else lines[n]
        assert cmd.strip().startswith("pln "), f"example cut mid-command:\n{r.stdout}"


def test_shell_completion_can_be_shown_installed_and_used(tmp_path: Path) -> None:
    r = pln("--show-completion", "bash")
    assert r.returncode == 0 and "_PLN_COMPLETE" in r.stdout
    home = tmp_path / "home"
    home.mkdir()
    r = pln("--install-completion", "bash", env={"HOME": str(home), "SHELL": "/bin/bash"})
    assert r.returncode == 0, r.stderr
    assert "pln" in (home / ".bashrc").read_text()
    r = pln(env={"_PLN_COMPLETE": "complete_bash", "COMP_WORDS": "pln sou", "COMP_CWORD": "1"})
    assert "source" in r.stdout.split()


# ----- 11. fediverse sources checked when added ------------------------------------------------


def test_unknown_account_and_list_are_refused_when_added(mastodon: Any, pln_home: Path) -> None:
    host = mastodon.base_url.split("://", 1)[1]
    r = pln("source", "add", f"@nosuchuser@{host}")
    assert r.returncode == 2
    assert r.stderr == f"error: no account @nosuchuser@{host} on {host} (the server answered " \
                       "404); nothing changed\n"
    assert pln("source", "add", f"@bob@{host}").returncode == 0
    assert pln("login", mastodon.base_url, "--token", "alice_token").returncode == 0
    mastodon.client("alice").list_create("Teachers")
    r = pln("source", "add", "list:NoSuchList")
    assert r.returncode == 2
    assert r.stderr == f"error: no list named 'NoSuchList' on {host} (your lists: Teachers); " \
                       "nothing changed\n"
    assert pln("source", "add", "list:teachers").returncode == 0  # any case, as sync finds it
    specs = [s["spec"] for s in json.loads(pln("source", "list", "--json").stdout)]
    assert specs == [f"@bob@{host}", "list:teachers"]


def test_account_on_an_unreachable_host_is_added_with_a_warning(pln_home: Path) -> None:
    r = pln("source", "add", "@dana@127.0.0.1:9")
    assert r.returncode == 0
    assert r.stderr.startswith("warning: could not check @dana@127.0.0.1:9: cannot reach "
                               "127.0.0.1:9 (connection refused); added anyway")
    assert r.stdout.startswith("added ")


# ----- 12. -o -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["source", "export"], ["journal", "--export", "md"]])
def test_output_to_a_missing_folder_or_a_folder_is_one_clear_line(
        args: list[str], pln_home: Path, tmp_path: Path) -> None:
    follow(pln_home, "https://blog.example/feed")
    missing = tmp_path / "missing" / "dir" / "x.out"
    r = pln(*args, "-o", str(missing))
    assert r.returncode == 2
    assert r.stderr == f"error: cannot write {missing}: the folder {missing.parent} does not " \
                       "exist\n"
    assert not (tmp_path / "missing").exists()  # no folder made behind the user's back
    r = pln(*args, "-o", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.startswith(f"error: cannot write {tmp_path}: it is a folder")
    r = pln(*args, "-o", str(tmp_path / "ok.out"))
    assert r.returncode == 0 and (tmp_path / "ok.out").stat().st_size > 0


# ----- 13. wrong files --------------------------------------------------------------------------


def test_importing_a_feed_instead_of_opml_says_so(pln_home: Path, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(rss(2))
    r = pln("source", "import", str(feed))
    assert r.returncode == 2
    assert r.stderr == ("error: not an OPML file: it is a feed (follow it with `pln source add "
                        "URL`, giving the feed's address)\n")
    assert not (pln_home / "config.toml").exists()


def test_truncated_feed_is_not_ok_with_nothing_said(feed_server: FeedServer, pln_home: Path) -> None:
    whole = rss(6)
    follow(pln_home, feed_server.route("/half.xml", body=whole[: len(whole) // 2]),
           feed_server.route("/stub.xml", body=whole[: whole.index("<item>") - 5]))
    r = pln("sync")
    assert r.returncode == 0
    half = next(line for line in r.stdout.splitlines() if "half.xml" in line)
    assert "the feed is cut off (unclosed token): read 2 entries; later ones may be missing" in half  # the third, cut short, is left for next time
    stub = next(line for line in r.stdout.splitlines() if "stub.xml" in line)
    assert "error the feed is cut off (unclosed token): no entry could be read from it" in stub
    assert r.stdout.splitlines()[-1] == "1 ok, 0 not modified, 1 error; 2 new"


# ----- 14. a broken config.toml does not hide the inbox ----------------------------------------


def test_broken_config_still_shows_the_inbox(feed_server: FeedServer, pln_home: Path) -> None:
    follow(pln_home, feed_server.route("/feed.xml", body=rss(2)))
    assert pln("sync").returncode == 0
    item = json.loads(pln("inbox", "--json").stdout)[0]["id"]
    with (pln_home / "config.toml").open("a") as f:
        f.write('\n[[sources]]\nurl = "htps//blog.example"\n')
    warning = ("warning: config.toml: sources[1].url: not a URL ('htps//blog.example') (at line 8)"
               " — showing the inbox anyway (fix config.toml to sync)\n")
    r = pln("inbox")
    assert r.returncode == 0 and r.stderr == warning
    assert "Post 0" in r.stdout and "Post 1" in r.stdout
    r = pln("show", item)
    assert r.returncode == 0 and r.stderr == warning and r.stdout.startswith("Post 0\n")
    r = pln("sync")  # writing commands still refuse, with the line
    assert r.returncode == 2
    assert r.stderr == ("error: config.toml: sources[1].url: not a URL ('htps//blog.example') "
                        "(at line 8)\n")


# ----- 15. login and slow source add ------------------------------------------------------------


def test_login_at_end_of_input_is_a_clear_message(mastodon: Any) -> None:
    r = pln("login", mastodon.base_url, input="")
    assert r.returncode == 2
    assert "Aborted" not in r.stderr
    assert r.stderr.splitlines()[-1] == (
        "error: no authorization code was given (end of input); nothing was saved — run "
        f"`pln login {mastodon.base_url}` again when you have it")


def test_rejected_token_does_not_suggest_the_same_command(mastodon: Any) -> None:
    r = pln("login", mastodon.base_url, "--token", "wrong")
    assert r.returncode == 2
    assert "without --token" in r.stderr and "copied whole" in r.stderr


def test_source_add_on_a_slow_host_says_it_is_checking(feed_server: FeedServer) -> None:
    url = feed_server.route("/slow.xml", body=rss(1), delay=2)
    for term_type in ("xterm-256color", "dumb"):  # a spinner, or a plain line
        term = Pty("source", "add", url, env={"TERM": term_type})
        shown = term.read_until(lambda s: "checking" in s or "added" in s, timeout=10)
        assert f"checking {url}" in shown and "added" not in shown
        res = term.wait(20)
        assert "added" in res.output if term_type != "dumb" else "already following" in res.output


# ----- 16. prune --------------------------------------------------------------------------------


@pytest.fixture
def old_items(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    """150 items, one a day."""
    items = "".join(
        f"<item><title>Day {i}</title><guid>https://b.example/{i}</guid>"
        f"<pubDate>{format_datetime(NOW - timedelta(days=i, hours=1), usegmt=True)}</pubDate></item>"
        for i in range(150))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>{items}</channel></rss>'
    follow(pln_home, feed_server.route("/feed.xml", body=body))
    cli("sync")


def _count() -> int:
    return len(json.loads(pln("inbox", "--all", "--json", "--limit", "1000").stdout))


def test_prune_dry_run_lists_and_deletes_nothing(old_items: None) -> None:
    r = pln("prune", "--older-than", "140d", "--dry-run")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["id", "published", "title"]
    assert [line.split()[-1] for line in lines[1:-1]] == [str(d) for d in range(140, 150)]
    assert lines[-1].startswith("would prune 10 items published before ")
    assert _count() == 150


def test_prune_asks_on_a_terminal_above_the_threshold(old_items: None) -> None:
    term = Pty("prune", "--older-than", "10d")
    term.read_until(lambda s: "[y/N]" in s)
    term.send("n\r")
    res = term.wait()
    assert res.code == 0 and "delete 140 items published before" in res.output
    assert "nothing deleted" in res.output and _count() == 150
    r = pln("prune", "--older-than", "10d")  # not a terminal: scripts are not asked
    assert r.returncode == 0 and r.stdout.startswith("pruned 140 items")
    assert _count() == 10


def test_prune_bad_value_names_the_option(pln_home: Path) -> None:
    r = pln("prune", "--older-than", "soon")
    assert r.returncode == 2
    assert r.stderr.startswith("error: bad --older-than 'soon': use a duration like 7d")


# ----- 17. nits ---------------------------------------------------------------------------------


def test_sync_times_have_one_format(feed_server: FeedServer, pln_home: Path) -> None:
    url = feed_server.route("/feed.xml", status=429, headers={"Retry-After": "7200"})
    follow(pln_home, url)
    line = pln("sync").stdout.splitlines()[0]
    assert re.search(r"skipped until \d{4}-\d\d-\d\d \d\d:\d\d UTC: rate limited \(429\); "
                     r"server asked to retry after \d{4}-\d\d-\d\d \d\d:\d\d UTC$", line), line
    again = pln("sync").stdout  # skipped without asking, until the time the server gave
    assert re.search(r"skipped until \d{4}-\d\d-\d\d \d\d:\d\d UTC\n", again), again
    assert not re.search(r"\dT\d", line + again)  # no ISO "…T04:44:00Z" beside "04:44 UTC"


def test_moving_to_an_already_followed_url_does_not_make_two(
        feed_server: FeedServer, pln_home: Path) -> None:
    new = feed_server.route("/new.xml", body=rss(1))
    old = feed_server.route("/old.xml", status=301, headers={"Location": new})
    follow(pln_home, old, new)
    r = pln("sync")
    assert r.returncode == 0
    sources = json.loads(pln("source", "list", "--json").stdout)
    assert [s["spec"] for s in sources] == [old, new]  # not [new, new]
    moved = next(line for line in r.stdout.splitlines() if "old.xml" in line)
    assert f"moved permanently to {new}, which you already follow as source {sources[1]['id']}" \
           in moved


def test_sync_of_an_id_and_its_prefix_syncs_once(feed_server: FeedServer, pln_home: Path) -> None:
    url = feed_server.route("/feed.xml", body=rss(1))
    follow(pln_home, url)
    sid = json.loads(pln("source", "list", "--json").stdout)[0]["id"]
    r = pln("sync", sid, sid[:4], "--json")
    assert [x["source"] for x in json.loads(r.stdout)] == [sid]
    assert feed_server.hits("/feed.xml") == 1


def test_network_failures_read_the_same_for_mastodon_and_feeds(pln_home: Path) -> None:
    follow(pln_home, "http://127.0.0.1:9/feed.xml")
    with (pln_home / "config.toml").open("a") as f:
        f.write('\n[[sources]]\nuser = "@dana@127.0.0.1:9"\n')
    errors = [r["error"] for r in json.loads(pln("sync", "--json").stdout)]
    assert errors == ["cannot reach 127.0.0.1:9: connection refused",
                      "cannot reach 127.0.0.1:9 (@dana@127.0.0.1:9): connection refused"]


def test_a_url_without_scheme_gets_a_suggestion() -> None:
    r = pln("source", "add", "blog.example/feed")
    assert r.returncode == 2
    assert r.stderr == "error: unknown source spec 'blog.example/feed': did you mean " \
                       "https://blog.example/feed ?\n"


def test_tables_have_named_columns_and_no_trailing_spaces(mastodon: Any) -> None:
    assert pln("login", mastodon.base_url, "--token", "alice_token").returncode == 0
    out = pln("accounts").stdout
    assert out.splitlines()[0].split() == ["name", "handle", "instance", "default"]
    assert all(line == line.rstrip() for line in out.splitlines())


def test_journal_keeps_urls_whole_on_a_narrow_terminal(mastodon: Any) -> None:
    from tests.test_journal import _journal

    a, b, _ = _journal(mastodon)
    urls = [e["parts"][0]["url"] for r in (a, b) for e in r["accounts"]]
    res = run_pty("journal", cols=50, rows=60)
    lines = screen_lines(res.output)
    assert res.code == 0
    for url in urls:  # each on a line of its own, whole, however narrow the terminal
        assert any(line.strip() == url for line in lines), (url, lines)
    assert lines[0].split() == ["id", "date", "state", "text"]  # accounts give way at 50
    plain = pln("journal").stdout
    assert all(line == line.rstrip() for line in plain.splitlines())


def test_links_json_url_is_the_canonical_link(pln_home: Path) -> None:
    from companion.models import Author, ItemData
    from companion.service import Companion

    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_text('[[sources]]\ntag = "edtech"\nhost = "social.example"\n'
                                          'id = "tag001"\n')
    c = Companion()
    with c.writing("test"):
        c._store_items("tag001", tuple(
            ItemData(key=f"https://social.example/users/u{n}/statuses/{n}", kind="status",
                     url=f"https://social.example/@u{n}/{n}",
                     author=Author(f"U{n}", f"@u{n}@social.example", ""),
                     html="<p>look</p>", text="look", published=NOW - timedelta(hours=n + 1),
                     link=link)
            for n, link in enumerate(["https://Blog.example/post/?utm_source=mastodon#top",
                                      "http://www.blog.example/post"])), NOW)
    rows = json.loads(pln("inbox", "--links", "--since", "7d", "--json").stdout)
    assert [(r["url"], r["count"]) for r in rows] == [("https://blog.example/post", 2)]
