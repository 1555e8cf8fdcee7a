"""A real IMAP server for tests: Dovecot (Debian's ``dovecot-imapd``, installed by .ci/run)
run as its own instance from a temp dir — its own config file, a passwd-file of users,
Maildir storage, plain-text login allowed on 127.0.0.1 only, a free loopback port — plus a
loopback TCP proxy that can cut the connection after the server has sent N bytes.

    with Dovecot(users={"teacher": "s3cret"}) as imap:
        imap.append("teacher", "Newsletters", raw_bytes)
        imap.port
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Self


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    """One Dovecot instance; ``stop()`` (or leaving the ``with``) ends it and its files."""

    def __init__(self, users: dict[str, str]) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("dovecot is not installed: run .ci/run, or "
                               "apt-get install dovecot-imapd")
        self.binary = binary
        self.users = dict(users)
        # Not under pytest's tmp_path: when tests run as root, mail is served as an
        # unprivileged user that must be able to reach the directory.
        self.dir = Path(tempfile.mkdtemp(prefix="pln-dovecot-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.conf = self.dir / "dovecot.conf"
        self.proc: subprocess.Popen[bytes] = None  # type: ignore[assignment]

    def _write_config(self) -> None:
        d = self.dir
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir()
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:  # as root (CI): Dovecot's own users, mail as "nobody"
            internal, login, mail_uid, mail_gid = "dovecot", "dovenull", 65534, 65534
            os.chown(d / "mail", mail_uid, mail_gid)
        else:  # as anyone else: every process runs as that user
            internal = login = me.pw_name
            mail_uid, mail_gid = me.pw_uid, me.pw_gid
        (d / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n"
                                          for u, p in self.users.items()))
        self.conf.write_text(f"""# pln tests: a throwaway Dovecot on loopback
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = pln-test-{self.port}
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")

    def start(self) -> Dovecot:
        self._write_config()
        # -F: in the foreground, as this process's child, so the test owns and ends it
        self.proc = subprocess.Popen([self.binary, "-F", "-c", str(self.conf)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.dir / "stderr.log", "wb"))  # noqa: SIM115
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = (self.dir / "stderr.log").read_text(errors="replace")
                shutil.rmtree(self.dir, ignore_errors=True)
                raise RuntimeError(f"dovecot did not start: {err or self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dovecot did not listen in time: " + self.log())

    def log(self) -> str:
        try:
            return (self.dir / "dovecot.log").read_text()
        except OSError:
            return ""

    def stop(self) -> None:
        """End the master (it ends its own children) and remove every file."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- a client for the test's own use ------------------------------------------------------

    def client(self, user: str) -> imaplib.IMAP4:
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        c.login(user, self.users[user])
        return c

    def append(self, user: str, folder: str, *messages: bytes, seen: bool = False) -> None:
        """Deliver messages into a folder (created if needed), as a mail server would."""
        c = self.client(user)
        try:
            c.create(f'"{folder}"')  # NO when it exists: fine
            for raw in messages:
                typ, data = c.append(f'"{folder}"', "(\\Seen)" if seen else None, None, raw)
                assert typ == "OK", data
        finally:
            c.logout()

    def recreate(self, user: str, folder: str, *messages: bytes) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        c = self.client(user)
        try:
            c.delete(f'"{folder}"')
        finally:
            c.logout()
        self.append(user, folder, *messages)

    def uidvalidity(self, user: str, folder: str) -> int:
        c = self.client(user)
        try:
            c.select(f'"{folder}"', readonly=True)
            return int(c.untagged_responses["UIDVALIDITY"][-1])
        finally:
            c.logout()

    def flags(self, user: str, folder: str) -> list[str]:
        """The flags of every message in the folder, in UID order."""
        c = self.client(user)
        try:
            c.select(f'"{folder}"', readonly=True)
            _, data = c.uid("FETCH", "1:*", "(FLAGS)")
            return [d.decode() for d in data if d]
        finally:
            c.logout()


class CuttingProxy:
    """A loopback TCP proxy in front of a server that closes both sides once the server
    has sent ``cut_after`` bytes to the client (None: never), as a dropped line would."""

    def __init__(self, port: int, cut_after: int | None = None) -> None:
        self.target = port
        self.cut_after = cut_after
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.cuts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(("127.0.0.1", self.target))
        sent = [0]
        done = threading.Event()

        def pump(src: socket.socket, dst: socket.socket, count: bool) -> None:
            try:
                while not done.is_set():
                    data = src.recv(4096)
                    if not data:
                        break
                    if count and self.cut_after is not None:
                        room = self.cut_after - sent[0]
                        if len(data) >= room:
                            dst.sendall(data[:max(room, 0)])
                            self.cuts += 1
                            break
                        sent[0] += len(data)
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                done.set()
                for s in (client, server):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        up = threading.Thread(target=pump, args=(client, server, False), daemon=True)
        up.start()
        pump(server, client, True)
        up.join(timeout=5)
        client.close()
        server.close()
