"""Run the real `pln` process: with pipes (stdout and stderr apart), or on a pseudo-terminal
of a given size for behaviour that depends on a terminal (pager, layout, Ctrl-C)."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pln_cmd(*args: str) -> list[str]:
    """The command line of this checkout's `pln` (as the installed script runs it)."""
    return [sys.executable, "-c", "from companion.cli.app import main; main()", *args]


def env_for(extra: dict[str, str] | None = None, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The test environment (PLN_HOME etc. from the autouse fixture) with changes."""
    env = {**os.environ, **(extra or {})}
    for k in drop:
        env.pop(k, None)
    return env


def pln(*args: str, env: dict[str, str] | None = None, input: str | None = None,
        timeout: float = 60, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`pln ARGS` as a process with pipes; stdout and stderr apart."""
    return subprocess.run(pln_cmd(*args), check=False, capture_output=True, text=True, input=input,
                          env=env_for(env, drop=drop), cwd=REPO, timeout=timeout)


@dataclass
class PtyResult:
    code: int
    output: str  # everything the terminal received (stdout and stderr), \r\n kept


class Pty:
    """`pln ARGS` on a pseudo-terminal of ``cols`` x ``rows`` as its controlling terminal."""

    def __init__(self, *args: str, cols: int = 80, rows: int = 24,
                 env: dict[str, str] | None = None, drop: tuple[str, ...] = ("COLUMNS", "LINES"),
                 cmd: list[str] | None = None) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.buf = b""

        def controlling_tty() -> None:  # runs in the child after setsid and the dups
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            cmd or pln_cmd(*args), stdin=slave, stdout=slave, stderr=slave, cwd=REPO,
            env=env_for(env, drop=drop), start_new_session=True, preexec_fn=controlling_tty,
        )
        os.close(slave)

    def read_until(self, predicate: Callable[[str], bool], timeout: float = 20) -> str:
        """Read what the terminal shows until ``predicate(text so far)`` or the process ends."""
        end = time.monotonic() + timeout
        while not predicate(self.text):
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout} s; the terminal shows:\n{self.text}")
            r, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    if self.proc.poll() is not None:
                        break
                    continue
                self.buf += chunk
        return self.text

    @property
    def text(self) -> str:
        return self.buf.decode("utf-8", "replace")

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def wait(self, timeout: float = 30) -> PtyResult:
        """Read until the process ends; its exit code and everything it printed."""
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._drain(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise TimeoutError(f"pln still running after {timeout} s:\n{self.text}")
        self._drain(0.2)
        os.close(self.master)
        return PtyResult(self.proc.returncode, self.text)

    def _drain(self, wait: float) -> None:
        r, _, _ = select.select([self.master], [], [], wait)
        while r:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.buf += chunk
            r, _, _ = select.select([self.master], [], [], 0.05)


def run_pty(*args: str, cols: int = 80, rows: int = 24, env: dict[str, str] | None = None,
            timeout: float = 30, drop: tuple[str, ...] = ("COLUMNS", "LINES")) -> PtyResult:
    """`pln ARGS` on a terminal, to the end."""
    return Pty(*args, cols=cols, rows=rows, env=env, drop=drop).wait(timeout)


_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>]")


def screen_lines(output: str) -> list[str]:
    """The terminal output as the lines one sees: no colour codes, \\r or trailing blanks."""
    text = _CSI.sub("", output).replace("\r\n", "\n").replace("\r", "\n")
    return [line.rstrip() for line in text.split("\n")]
