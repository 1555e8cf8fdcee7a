"""Nothing lost (issue 12): the store after a kill -9, damaged and empty files, `pln doctor`,
temp files, a full or read-only disk, symlinks in the home, damaged credentials or journal.
Every test drives the real `pln` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.feedserver import FeedServer
from tests.procs import REPO, follow, items_json, pln, rss, start


def _serve(srv: FeedServer, feeds: int, items: range, tag: str = "v1") -> list[str]:
    return [srv.route(f"/f{i}.xml", body=rss(i, items), etag=f'"{tag}"') for i in range(feeds)]


def _synced(home: Path, srv: FeedServer, feeds: int = 3, n: int = 6) -> list[dict]:
    follow(home, _serve(srv, feeds, range(n)))
    r = pln(home, "sync")
    assert r.returncode == 0, r.stderr
    return items_json(home)


# ----- 1. a kill at any instant leaves a store that opens whole ---------------------------------


@pytest.mark.parametrize("point", ["replace:keys-*", "replace:state.json", "replace:2"])
def test_a_kill_while_the_sync_writes_leaves_every_listed_item_reachable(
        feed_server: FeedServer, pln_home: Path, point: str) -> None:
    """Killed just before a segment's keys (the index of its items; or state.json, or the
    second file) are renamed into place, in a sync that added items: every item `pln inbox` lists can be shown and
    starred, `read --all` reads them all, and the next sync completes (issue 12: 3 of 3
    trials left items listed but "no item with id …")."""
    before = _synced(pln_home, feed_server)
    _serve(feed_server, 3, range(10), tag="v2")  # 4 new items per feed
    proc = start(pln_home, "sync", crash_at=point)
    proc.communicate(timeout=60)
    assert proc.returncode == -9, "the crash point was not reached"
    listed = items_json(pln_home)
    assert {i["id"] for i in before} <= {i["id"] for i in listed}
    ids = [i["id"] for i in listed]
    r = pln(pln_home, "star", *ids)
    assert r.returncode == 0, r.stderr
    assert pln(pln_home, "show", "--no-mark", ids[-1], "--json").returncode == 0
    r = pln(pln_home, "read", "--all")
    assert r.returncode == 0 and f"marked {len(ids)} items read" in r.stdout, r.stdout + r.stderr
    assert items_json(pln_home, "--starred") and len(items_json(pln_home, "--starred")) == len(ids)
    assert json.loads(pln(pln_home, "inbox", "--json").stdout) == []  # nothing left unread
    r = pln(pln_home, "sync")
    assert r.returncode == 0, r.stderr
    after = items_json(pln_home)
    assert len(after) == 30 and len({i["id"] for i in after}) == 30
    assert not list(pln_home.glob("**/.*.tmp")) and not (pln_home / "commit.json").exists()


def test_an_interrupted_commit_is_finished_by_the_next_reader(feed_server: FeedServer,
                                                              pln_home: Path) -> None:
    """Killed between the renames of a commit, the next `pln inbox` (which does not write)
    finishes it first: it lists the new items and every one of them resolves."""
    _synced(pln_home, feed_server)
    _serve(feed_server, 3, range(8), tag="v2")
    proc = start(pln_home, "sync", crash_at="replace:3")  # (1: commit.json, 2: first file)
    proc.communicate(timeout=60)
    assert proc.returncode == -9
    assert (pln_home / "commit.json").exists()
    listed = items_json(pln_home)
    assert len(listed) == 24 and not (pln_home / "commit.json").exists()
    assert pln(pln_home, "show", "--no-mark", listed[0]["id"]).returncode == 0


# ----- 7. symlinks in the home; a home others can write ------------------------------------------


def test_the_lock_never_writes_through_a_symlink(feed_server: FeedServer, pln_home: Path,
                                                 tmp_path: Path) -> None:
    listed = _synced(pln_home, feed_server)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (pln_home / "pln.lock.info").symlink_to(victim)  # where pln wrote who holds the lock
    assert pln(pln_home, "star", listed[0]["id"]).returncode == 0
    assert victim.read_text() == "precious"
    (pln_home / "pln.lock").unlink()
    (pln_home / "pln.lock").symlink_to(victim)
    r = pln(pln_home, "star", listed[1]["id"])
    assert r.returncode == 1
    assert "pln.lock is a symbolic link" in r.stderr and "Traceback" not in r.stderr
    assert victim.read_text() == "precious"
    assert not items_json(pln_home, "--starred")[1:]  # the second star was not made


def test_a_home_others_can_write_gets_a_warning(feed_server: FeedServer, pln_home: Path) -> None:
    listed = _synced(pln_home, feed_server)
    os.chmod(pln_home, 0o777)
    r = pln(pln_home, "star", listed[0]["id"])
    assert r.returncode == 0
    assert f"warning: {pln_home} can be written by everyone (mode 777)" in r.stderr
    assert f"chmod 700 {pln_home}" in r.stderr
    os.chmod(pln_home, 0o700)
    assert "warning" not in pln(pln_home, "star", listed[1]["id"]).stderr


# ----- 9. empty and damaged files: an error that names the file and the way back ------------------


def test_an_empty_week_is_an_error_not_an_empty_week(feed_server: FeedServer, pln_home: Path) -> None:
    """A 0-byte items file: `pln inbox` says so (it used to drop the week silently), `pln star`
    on one of its items fails instead of saying "starred", and a sync does not rewrite the
    week with only new items."""
    _synced(pln_home, feed_server, feeds=2, n=3)
    week = pln_home / "inbox" / "items-2026-W45.json"  # Nov 2-8: posts 1, 2 and the new 3, 4
    in_week = next(iter(orjson.loads(week.read_bytes())["items"]))
    week.write_bytes(b"")
    r = pln(pln_home, "inbox")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{week} is empty (0 bytes)" in r.stderr and "pln doctor --repair" in r.stderr
    r = pln(pln_home, "star", in_week)
    assert r.returncode == 1 and "starred" not in r.stdout and f"{week} is empty" in r.stderr
    _serve(feed_server, 2, range(5), tag="v2")
    r = pln(pln_home, "sync", "--json")
    assert r.returncode == 0  # (the sync ran: each source reports its own failure)
    assert all(res["status"] == "error" and "is empty" in res["error"]
               for res in json.loads(r.stdout))
    assert week.read_bytes() == b""  # left for doctor, not overwritten


def test_an_empty_journal_is_an_error_that_says_it_holds_your_reflections(pln_home: Path) -> None:
    pln_home.mkdir(parents=True)
    (pln_home / "journal.json").write_bytes(b"")
    for args in (["journal"], ["drafts"]):
        r = pln(pln_home, *args)
        assert r.returncode == 1, r.stdout
        assert "journal.json is empty" in r.stderr and "your reflections" in r.stderr
        assert "restore it from a backup" in r.stderr
    assert (pln_home / "journal.json").read_bytes() == b""
    r = pln(pln_home, "doctor", "--repair")
    assert r.returncode == 1 and "journal.json: is empty" in r.stdout
    assert (pln_home / "journal.json").read_bytes() == b""  # doctor never touches it


def test_doctor_finds_and_repairs_what_can_be_rebuilt(feed_server: FeedServer, pln_home: Path) -> None:
    """A lost segment, a damaged search file and a damaged index (a segment's keys): `pln
    doctor` reports each (exit 1), `--repair` keeps a backup of what it replaces, rebuilds
    the keys and the search text, and the next sync fetches the lost segment's items again."""
    listed = _synced(pln_home, feed_server, feeds=3, n=10)
    inbox = pln_home / "inbox"
    weeks = sorted(inbox.glob("items-*.json"))
    assert len(weeks) >= 3
    lost = weeks[0]
    lost_ids = set(orjson.loads(lost.read_bytes())["items"])
    lost.write_bytes(b"")
    search = inbox / f"search-{weeks[1].name[6:]}"
    search.write_bytes(b"{not json")
    keys = inbox / f"keys-{weeks[2].name[6:]}"
    empty = {"ids": {"v": ""}, "pubs": {"v": ""}, "flags": {"v": ""}, "links": {"v": ""}}
    keys.write_bytes(orjson.dumps({"k": empty}))  # its items no longer indexed
    r = pln(pln_home, "doctor")
    assert r.returncode == 1
    assert f"problem  {lost}: is empty (0 bytes)" in r.stdout
    assert f"problem  {search}: is corrupt" in r.stdout
    assert f"problem  {keys}: does not match the segment's items" in r.stdout
    assert "`pln doctor --repair` rebuilds what can be rebuilt" in r.stdout
    r = pln(pln_home, "doctor", "--repair")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"repaired {lost}" in r.stdout and f"repaired {keys}" in r.stdout
    assert "rebuilt from the segment's items" in r.stdout
    backups = list((pln_home / "backups").glob(f"*/inbox/{lost.name}"))
    assert len(backups) == 1 and backups[0].read_bytes() == b""
    assert pln(pln_home, "doctor").stdout.endswith("everything is fine\n")
    remaining = items_json(pln_home)
    assert {i["id"] for i in remaining} == {i["id"] for i in listed} - lost_ids
    assert items_json(pln_home, "--search", "post")  # the search text was rebuilt
    r = pln(pln_home, "sync")  # same ETags as before: the reset state makes it fetch again
    assert r.returncode == 0, r.stderr
    assert {i["id"] for i in items_json(pln_home)} == {i["id"] for i in listed}


def test_doctor_moves_damaged_credentials_aside(pln_home: Path) -> None:
    pln_home.mkdir(parents=True)
    (pln_home / "credentials.json").write_text("{broken")
    r = pln(pln_home, "accounts")
    assert r.returncode == 2 and "pln doctor --repair" in r.stderr
    r = pln(pln_home, "doctor", "--repair")
    assert r.returncode == 0, r.stdout
    assert "run `pln login` again for each account" in r.stdout
    assert not (pln_home / "credentials.json").exists()
    moved = next((pln_home / "backups").glob("*/credentials.json"))
    assert moved.read_text() == "{broken" and (moved.stat().st_mode & 0o077) == 0
    assert pln(pln_home, "accounts").returncode == 0


# ----- 10. temp files left by kills; a full disk; a read-only disk ---------------------------------


def test_temp_files_left_by_killed_processes_are_removed_at_the_next_write(
        feed_server: FeedServer, pln_home: Path) -> None:
    listed = _synced(pln_home, feed_server)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = [pln_home / "inbox" / f".items-2026-W45.json.{dead_pid}.x1y2z3ab.tmp",
             pln_home / f".state.json.{dead_pid}.q9w8e7rt.tmp",
             pln_home / f".config.toml.{dead_pid}.k3k3k3k3.tmp"]
    for p in stale:
        p.write_bytes(b"x" * 100_000)
    old = pln_home / "inbox" / ".index.json.abc123.tmp"  # an older pln's, without a pid
    old.write_bytes(b"{")
    os.utime(old, (1, 1))
    alive = pln_home / "inbox" / f".items-2026-W45.json.{os.getpid()}.aaaaaaaa.tmp"
    alive.write_bytes(b"a live writer's")
    assert pln(pln_home, "inbox").returncode == 0  # reading removes nothing
    assert all(p.exists() for p in stale)
    assert pln(pln_home, "star", listed[0]["id"]).returncode == 0
    assert not any(p.exists() for p in [*stale, old])
    assert alive.exists()


def _in_small_fs(script: str, size: str = "4m") -> subprocess.CompletedProcess[str]:
    """Run a shell script with a fresh tmpfs of ``size`` on $MNT (a private mount namespace,
    so no root is needed where user namespaces are allowed)."""
    inner = f'set -e; MNT=$(mktemp -d); mount -t tmpfs -o size={size} tmpfs "$MNT"; {script}'
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", inner],
                          capture_output=True, text=True, timeout=120, check=False)


def _small_fs() -> None:
    """The disk tests need a small file system: never skipped (a skip would hide that they
    did not run); a machine without user namespaces fails here, saying why."""
    probe = _in_small_fs("true")
    assert probe.returncode == 0, f"cannot mount a small file system here: {probe.stderr.strip()}"


def test_a_full_disk_and_a_read_only_disk_get_a_clear_message_and_lose_nothing(
        feed_server: FeedServer, pln_home: Path, tmp_path: Path) -> None:
    _small_fs()
    listed = _synced(pln_home, feed_server)
    _serve(feed_server, 3, range(9), tag="v2")
    py, item = sys.executable, listed[0]["id"]
    out = tmp_path / "out"
    out.mkdir()
    script = f"""
        cp -a {pln_home} "$MNT/home"
        export PLN_HOME="$MNT/home" PYTHONPATH={REPO} NO_COLOR=1 PLN_PARSE_PROCESSES=0
        find "$PLN_HOME" -type f -not -name pln.lock | sort | xargs md5sum > {out}/before
        dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
        set +e
        {py} -m companion star {item} > {out}/star.out 2> {out}/star.err; echo $? > {out}/star.rc
        {py} -m companion sync > {out}/sync.out 2> {out}/sync.err; echo $? > {out}/sync.rc
        find "$PLN_HOME" -type f -not -name pln.lock | sort | xargs md5sum > {out}/after-full
        ls -a "$PLN_HOME" "$PLN_HOME/inbox" > {out}/names-full
        rm "$MNT/filler"
        mount -o remount,ro "$MNT"
        {py} -m companion star {item} > {out}/ro.out 2> {out}/ro.err; echo $? > {out}/ro.rc
        {py} -m companion inbox --json > {out}/ro-inbox.out 2> {out}/ro-inbox.err
        echo $? > {out}/ro-inbox.rc
    """
    r = _in_small_fs(script, size="2m")
    assert r.returncode == 0, r.stderr
    files = {p.name: p.read_text() for p in out.iterdir()}
    for cmd in ("star", "sync"):
        assert files[f"{cmd}.rc"].strip() == "1", files[f"{cmd}.err"]
        assert "no space left on the device holding" in files[f"{cmd}.err"], files[f"{cmd}.err"]
        assert "Traceback" not in files[f"{cmd}.err"] and "internal error" not in files[f"{cmd}.err"]
    assert "starred" not in files["star.out"]
    assert files["after-full"] == files["before"]  # every file as it was
    assert ".tmp" not in files["names-full"] and ".info" not in files["names-full"]
    assert files["ro.rc"].strip() == "1"
    assert "is read-only" in files["ro.err"] and "Traceback" not in files["ro.err"]
    assert files["ro-inbox.rc"].strip() == "0", files["ro-inbox.err"]  # reading still works
    assert len(json.loads(files["ro-inbox.out"])) == len(listed)


# ----- 11. a damaged credentials file or journal does not stop the sync ------------------------


def test_damaged_credentials_fail_only_the_sources_that_log_in(feed_server: FeedServer,
                                                              pln_home: Path) -> None:
    urls = _serve(feed_server, 2, range(3))
    follow(pln_home, urls)
    with (pln_home / "config.toml").open("a") as f:
        f.write('\n[[sources]]\ntimeline = "home"\naccount = "me"\n')
    (pln_home / "credentials.json").write_text('{"accounts": {"me": ')
    r = pln(pln_home, "sync", "--json")
    assert r.returncode == 0, r.stderr  # (the sync ran: the failed source is in its result)
    res = {x["label"]: x for x in json.loads(r.stdout)}
    assert [res[u]["status"] for u in urls] == ["ok", "ok"]
    home = next(x for x in res.values() if x["label"] not in urls)
    assert home["status"] == "error" and "credentials.json" in home["error"]
    assert len(items_json(pln_home)) == 6


def test_a_damaged_journal_with_retention_keeps_the_sync_summary(feed_server: FeedServer,
                                                               pln_home: Path) -> None:
    follow(pln_home, _serve(feed_server, 2, range(3)), settings="retention_days = 30")
    (pln_home / "journal.json").write_text('{"reflections": {"x": ')
    r = pln(pln_home, "sync")
    assert r.returncode == 0, r.stderr
    assert "2 ok, 0 not modified, 0 errors; 6 new" in r.stdout + r.stderr
    assert "warning: retention_days: nothing was pruned" in r.stderr
    assert "journal.json is corrupt" in r.stderr
    assert (pln_home / "journal.json").read_text() == '{"reflections": {"x": '
