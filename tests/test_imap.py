"""Newsletters over IMAP against a real Dovecot on loopback (tests/imapserver.py): adding
with a password, first and incremental sync, a renumbered folder (UIDVALIDITY), a wrong
password, a dropped connection, and the server's \\Seen flags left alone unless asked."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import newsletters as nl
from tests.imapserver import CuttingProxy, Dovecot

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "c0rrect horse; battery"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for the module; each test has its own user (its own mailbox)."""
    users = {f"t{n}": f"{PASSWORD}{n}" for n in range(16)}
    with Dovecot(users) as server:
        yield server


_next = iter(range(16))


@pytest.fixture
def user(dovecot: Dovecot) -> str:
    return f"t{next(_next)}"


def spec(dovecot: Dovecot, user: str, port: int | None = None, folder: str = "Newsletters") -> str:
    return f"imap://{user}@127.0.0.1:{port or dovecot.port}/{folder}"


def add(cli, dovecot: Dovecot, user: str, *args: str, port: int | None = None, code: int = 0):  # type: ignore[no-untyped-def]
    return cli("source", "add", spec(dovecot, user, port), *args, "--password", "-",
               input=dovecot.users[user] + "\n", code=code)


def sync(cli, code: int = 0) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(cli("sync", "--json", code=code).stdout)


def titles(cli) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(i["title"] for i in json.loads(cli("inbox", "--all", "--json").stdout))


def test_add_keeps_the_password_in_credentials_only(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", nl.substack(NOW))
    r = add(cli, dovecot, user, "--name", "Newsletters")
    assert r.stdout.startswith("added ")
    password = dovecot.users[user]
    assert password not in r.stdout + r.stderr
    config = (pln_home / "config.toml").read_text()
    assert password not in config and f'imap = "{spec(dovecot, user)}"' in config
    creds = pln_home / "credentials.json"
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600
    data = json.loads(creds.read_text())
    assert data["mail"] == {f"{user}@127.0.0.1:{dovecot.port}": {"password": password}}
    # never printed anywhere else either
    for args in (("source", "list"), ("source", "list", "--json"), ("source", "export"),
                 ("accounts", "--json")):
        out = cli(*args)
        assert password not in out.stdout + out.stderr
    # a second folder of the same login needs no password again
    r = cli("source", "add", spec(dovecot, user, folder="INBOX"))
    assert r.stdout.startswith("added ")
    # removing the last source of a login forgets its password
    ids = [s["id"] for s in json.loads(cli("source", "list", "--json").stdout)]
    cli("source", "rm", ids[0])
    assert json.loads(creds.read_text())["mail"]
    cli("source", "rm", ids[1])
    assert json.loads(creds.read_text())["mail"] == {}


def test_add_asks_for_the_password_with_hidden_input(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", nl.substack(NOW))
    r = cli("source", "add", spec(dovecot, user), input=dovecot.users[user] + "\n")
    assert f"IMAP password for {user} on 127.0.0.1" in r.stderr
    assert dovecot.users[user] not in r.stdout + r.stderr  # not echoed
    assert r.stdout.strip().startswith("added ")  # (the runner echoes the Enter key)


def test_add_with_a_wrong_password_changes_nothing(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", nl.substack(NOW))
    r = cli("source", "add", spec(dovecot, user), "--password", "-", input="wrong-pw\n", code=2)
    assert "refused the login" in r.stderr and "nothing changed" in r.stderr
    assert "wrong-pw" not in r.stderr
    assert r.stderr.count("\n") == 1
    r = cli("source", "add", spec(dovecot, user, folder="NoSuchFolder"), "--password", "-",
            input=dovecot.users[user] + "\n", code=2)
    assert "no folder 'NoSuchFolder'" in r.stderr
    r = cli("source", "add", spec(dovecot, user), "--password", dovecot.users[user], code=2)
    assert "--password takes '-'" in r.stderr
    assert not (pln_home / "credentials.json").exists() or "mail" not in json.loads(
        (pln_home / "credentials.json").read_text())
    assert not (pln_home / "config.toml").exists() or "imap" not in (pln_home / "config.toml").read_text()


def test_first_sync_then_only_new_messages(cli, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", *nl.week(NOW))
    add(cli, dovecot, user)
    [res] = sync(cli)
    assert (res["status"], res["new"]) == ("ok", 4)
    assert "Évaluer autrement – la lettre du 30 novembre" in titles(cli)
    # nothing new: no message fetched again
    [res] = sync(cli)
    assert (res["status"], res["new"], res["updated"]) == ("not_modified", 0, 0)
    dovecot.append(user, "Newsletters", nl.substack(NOW, n=2), nl.no_message_id(NOW))
    [res] = sync(cli)
    assert (res["status"], res["new"]) == ("ok", 2)
    assert len(titles(cli)) == 6
    # never marked read on the server
    flags = dovecot.flags(user, "Newsletters")
    assert len(flags) == 6 and not any("\\Seen" in f for f in flags)


def test_first_sync_is_bounded_and_older_mail_never_comes_later(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    # delivered oldest first, as mail arrives; the first sync takes the newest delivered
    dovecot.append(user, "Newsletters",
                   *[nl.substack(NOW - timedelta(hours=n), n=n) for n in range(5, 0, -1)])
    add(cli, dovecot, user)
    cfg = pln_home / "config.toml"
    cfg.write_text(cfg.read_text().replace("[settings]\n", "[settings]\nfirst_sync_limit = 2\n"))
    [res] = sync(cli)
    assert res["new"] == 2
    assert titles(cli) == ["Exit tickets, week 1 ✏️", "Exit tickets, week 2 ✏️"]  # the newest
    dovecot.append(user, "Newsletters", nl.buttondown_cp1252(NOW))
    [res] = sync(cli)
    assert res["new"] == 1


def test_uidvalidity_change_reads_the_folder_again_without_doubles(cli, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", nl.substack(NOW), nl.mailchimp_latin1(NOW))
    add(cli, dovecot, user)
    assert sync(cli)[0]["new"] == 2
    before = dovecot.uidvalidity(user, "Newsletters")
    # the folder is rebuilt (restored from a backup, moved between servers): same two
    # messages with new UIDs, and one more
    dovecot.recreate(user, "Newsletters", nl.substack(NOW), nl.mailchimp_latin1(NOW),
                     nl.buttondown_cp1252(NOW))
    assert dovecot.uidvalidity(user, "Newsletters") != before
    [res] = sync(cli)
    assert (res["status"], res["new"], res["updated"]) == ("ok", 1, 0)
    assert any("UIDVALIDITY changed" in n for n in res["notes"])
    assert len(titles(cli)) == 3
    # and from there on, incremental again
    dovecot.append(user, "Newsletters", nl.substack(NOW, n=9))
    assert sync(cli)[0]["new"] == 1


def test_a_wrong_password_at_sync_fails_that_source_only(cli, pln_home: Path, dovecot: Dovecot, user: str, feed_server) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", nl.substack(NOW))
    add(cli, dovecot, user)
    blog = feed_server.route("/feed", body="""<?xml version="1.0"?><rss version="2.0"><channel>
<title>Blog</title><item><title>Hello</title><guid>https://blog.example/1</guid></item></channel></rss>""")
    cli("source", "add", blog)
    creds = pln_home / "credentials.json"
    data = json.loads(creds.read_text())
    data["mail"][f"{user}@127.0.0.1:{dovecot.port}"]["password"] = "changed-on-the-server"
    creds.write_text(json.dumps(data))
    r = cli("sync")  # README: a source that failed is reported; the sync exits 0, the others saved
    report = r.stdout + r.stderr
    assert "refused the login" in report and "pln source password" in report
    assert "changed-on-the-server" not in r.stdout + r.stderr
    assert titles(cli) == ["Hello"]
    # fixing the password: checked with the server, then kept; the next sync works
    sid = json.loads(cli("source", "list", "--json").stdout)[0]["id"]
    r = cli("source", "password", sid[:4], "--password", "-", input="still wrong\n", code=2)
    assert "refused the login" in r.stderr
    r = cli("source", "password", sid[:4], input=dovecot.users[user] + "\n")
    assert r.stdout.strip().startswith("password saved for ")
    [mail, _feed] = sync(cli)
    assert mail["new"] == 1


def test_a_dropped_connection_keeps_nothing_half_done(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", *nl.week(NOW))
    with CuttingProxy(dovecot.port) as proxy:
        add(cli, dovecot, user, port=proxy.port)
        proxy.cut_after = 3000  # in the middle of fetching the bodies
        r = cli("sync")
        assert proxy.cuts == 1
        report = r.stdout + r.stderr
        assert "IMAP connection to 127.0.0.1" in report and "was lost" in report
        assert "Traceback" not in report
        assert titles(cli) == []
        listed = json.loads(cli("source", "list", "--json").stdout)
        assert listed[0]["health"]["failures"] == 1
        # the line is back: everything arrives once
        proxy.cut_after = None
        [res] = sync(cli)
        assert (res["status"], res["new"]) == ("ok", 4)
        # cut right after the greeting, before the login
        proxy.cut_after = 10
        r = cli("sync")
        assert "was lost" in r.stdout + r.stderr
        proxy.cut_after = None
        assert sync(cli)[0]["status"] == "not_modified"
    assert len(titles(cli)) == 4


def test_a_server_that_is_not_there(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    from tests.imapserver import free_port

    r = cli("source", "add", spec(dovecot, user, free_port()), "--password", "-",
            input="x\n", code=2)
    assert "connection refused" in r.stderr


def test_filters_and_mark_seen_on_the_server(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(user, "Newsletters", *nl.week(NOW))
    add(cli, dovecot, user, "--list-id", "teachinglab.substack.com", "--from", "sam@buttondown.email")
    cfg = pln_home / "config.toml"
    cfg.write_text(cfg.read_text().replace('id = "', 'mark_seen = true\nid = "'))
    [res] = sync(cli)
    assert res["new"] == 2
    assert titles(cli) == ["Exit tickets, week 1 ✏️", "One thing for Monday"]
    flags = dovecot.flags(user, "Newsletters")
    seen = ["\\Seen" in f for f in flags]
    assert seen == [True, False, False, True]  # only what this source took


def test_a_message_over_the_size_cap_is_never_downloaded(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    huge = nl.personal(NOW).replace(b"Can you take Thursday?", b"x" * 60_000)
    dovecot.append(user, "Newsletters", nl.substack(NOW), huge, nl.buttondown_cp1252(NOW))
    add(cli, dovecot, user)
    cfg = pln_home / "config.toml"
    cfg.write_text(cfg.read_text().replace("[settings]\n", "[settings]\nmax_bytes = 50000\n"))
    [res] = sync(cli)
    assert (res["status"], res["new"]) == ("ok", 2)
    assert res["notes"] == ["1 message larger than max_bytes (50000 bytes) was left out"]
    [res] = sync(cli)  # not asked for again
    assert (res["status"], res["notes"]) == ("not_modified", [])


def test_no_password_and_no_one_to_type_it(cli, pln_home: Path, dovecot: Dovecot, user: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("source", "add", spec(dovecot, user), input="", code=2)
    assert "no password given" in r.stderr and "--password -" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
