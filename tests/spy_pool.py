"""Run the real `pln` and log every pool of parse workers it starts (one line each).

    PLN_SPY_LOG=FILE python tests/spy_pool.py sync

Nothing is faked: the pool is made and used as usual; the wrapper only writes a line to
FILE first (tests/test_scale.py: a warm sync of 304s starts none).
"""

from __future__ import annotations

import os
import sys


def _install(log_path: str) -> None:
    from companion.sources import feed

    real = feed._new_pool

    def logged(n, mp_context, parent):  # type: ignore[no-untyped-def]
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"pool of {n} ({mp_context.get_start_method()})\n")
        return real(n, mp_context, parent)

    feed._new_pool = logged


if __name__ == "__main__":
    if os.environ.get("PLN_SPY_LOG"):
        _install(os.environ["PLN_SPY_LOG"])
    sys.argv = ["pln", *sys.argv[1:]]
    from companion.cli.app import main

    main()
