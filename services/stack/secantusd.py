"""``python -m services.stack.secantusd``: the SecantusDB daemon with a short transaction lifetime.

A process killed in the middle of a transaction leaves it open on the server, holding every
document it wrote until the server gives up on it: for enrolment that is the cohort fence, so
every write to the cohort fails until then. mongod bounds this with
``transactionLifetimeLimitSeconds`` (60 s by default); SecantusDB aborts a transaction idle for
``transaction_lifetime_seconds`` (also 60 s), a constructor argument its command line (0.7) does
not expose. This launcher runs secantusd's own command line with that argument bound, taken from
``--transaction-lifetime-seconds``; every other flag is secantusd's.

SecantusDB measures the lifetime from the start of a transaction's latest statement, so it must
exceed the longest single statement (an import chunk's ``insert_many``: well under a second).
"""

from __future__ import annotations

import argparse
from typing import Any

from secantus import cli
from secantus.server import SecantusDBServer


def with_transaction_lifetime(seconds: float) -> type:
    class Server(SecantusDBServer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("transaction_lifetime_seconds", seconds)
            super().__init__(*args, **kwargs)

    return Server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--transaction-lifetime-seconds", type=float, required=True)
    ours, theirs = parser.parse_known_args(argv)
    cli.SecantusDBServer = with_transaction_lifetime(ours.transaction_lifetime_seconds)
    return int(cli.main(theirs))


if __name__ == "__main__":
    raise SystemExit(main())
