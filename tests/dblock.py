"""Another process holding the database's write lock, as a backup job or a stuck script would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

LOCKERS = {
    "sqlite": """
        import sqlite3, sys
        connection = sqlite3.connect(sys.argv[1].removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        sys.stdin.readline()
        connection.execute("ROLLBACK")
    """,
    "postgresql": """
        import psycopg, sys
        url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as connection:
            connection.execute("LOCK TABLE enquiry, lead, page_view_day IN ACCESS EXCLUSIVE MODE")
            print("locked", flush=True)
            sys.stdin.readline()
    """,
}


@contextmanager
def locked_by_another_process(url: str) -> Iterator[None]:
    """Holds the lock from a separate process until the block ends."""
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(LOCKERS[dialect]), url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.readline().strip() == "locked"
        yield
    finally:
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.flush()
        process.wait(timeout=30)
