"""Run the real `pln` and SIGKILL it at a chosen step of writing its files.

    PLN_CRASH_AT=replace:N          python tests/faults/crashpoint.py sync   # before rename N
    PLN_CRASH_AT=replace:index.json python tests/faults/crashpoint.py sync   # before the rename
                                                                             # onto index.json
    PLN_CRASH_AT='replace:keys-*'   ...                                      # before the first
                                                                             # rename onto a keys file
    PLN_CRASH_AT=fsync:N            ...                                      # before fsync N

A crash is a kill -9 of this process at that instant: the renames (``os.replace``) and
fsyncs are the steps at which a store's files change on disk, so killing just before each
one visits every state a crash can leave. Nothing is faked: every step before the chosen
one runs for real. Prints nothing; the exit status is -9 when the point was reached.
``PLN_CRASH_LOG=FILE`` appends one line per step ("replace index.json"), to count them.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import sys


def _install(spec: str) -> None:
    kind, _, target = spec.partition(":")
    count = 0
    log_path = os.environ.get("PLN_CRASH_LOG")

    def wrap(real):  # type: ignore[no-untyped-def]
        def step(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal count
            if os.getpid() == parent:  # (parse workers do not write the store)
                if log_path:
                    with open(log_path, "a", encoding="utf-8") as log:
                        log.write(f"{kind} {os.path.basename(str(args[-1]))}\n")
                hit = False
                if target.isdigit():
                    count += 1
                    hit = count == int(target)
                elif kind == "replace":
                    hit = fnmatch.fnmatchcase(os.path.basename(str(args[1])), target)
                if hit:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        return step

    parent = os.getpid()
    if kind == "replace":
        os.replace = wrap(os.replace)
    elif kind == "fsync":
        os.fsync = wrap(os.fsync)
    else:
        raise SystemExit(f"unknown crash point {spec!r}")


if __name__ == "__main__":
    if os.environ.get("PLN_CRASH_AT"):
        _install(os.environ["PLN_CRASH_AT"])
    sys.argv = ["pln", *sys.argv[1:]]
    from companion.cli.app import main

    main()
