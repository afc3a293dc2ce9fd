"""A throwaway PostgreSQL server for the storage tests: `initdb` + `pg_ctl` in a temp dir.

Locally, without PostgreSQL installed, its tests skip with a hint; with ``CI=true`` a missing
server is a failure, never a skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HINT = (
    "PostgreSQL is not installed, so the PostgreSQL storage tests are skipped. "
    "Install it (Debian/Ubuntu: `apt-get install postgresql`) or put its bin directory "
    "(with initdb and pg_ctl) on PATH to run them."
)


@dataclass(frozen=True)
class PostgresServer:
    """A running server reachable over a unix socket in `socket_dir`, user `hearth`."""

    socket_dir: Path
    user: str = "hearth"

    def url(self, database: str) -> str:
        """SQLAlchemy URL for `database` on this server."""
        return f"postgresql+asyncpg://{self.user}@/{database}?host={self.socket_dir}"


def find_bin(name: str) -> str | None:
    """Locate a PostgreSQL program on PATH or in Debian's versioned directories."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def unavailable() -> None:
    """Skip (locally) or fail (in CI) because there is no PostgreSQL."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("CI=true but PostgreSQL (initdb/pg_ctl) was not found; " + HINT)
    pytest.skip(HINT)


def _runner() -> tuple[list[str], int | None, int | None]:
    """PostgreSQL refuses to run as root: run its programs as an unprivileged user."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
    pytest.fail("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")


class Cluster:
    """A PostgreSQL cluster in a temp dir that tests may stop and start again (outages)."""

    def __init__(self) -> None:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            unavailable()
            raise AssertionError("unreachable")
        self._pg_ctl = pg_ctl
        self._prefix, uid, gid = _runner()
        self.root = Path(tempfile.mkdtemp(prefix="hearth-pg-"))
        if uid is not None and gid is not None:
            os.chown(self.root, uid, gid)
        self._data, self._log = self.root / "data", self.root / "server.log"
        self._run(
            initdb,
            "-D",
            str(self._data),
            "-A",
            "trust",
            "-U",
            "hearth",
            "-E",
            "UTF8",
            "--no-locale",
        )
        self.server = PostgresServer(socket_dir=self.root)

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._prefix, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self._log.read_text(errors="replace") if self._log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stderr}{result.stdout}\n{log}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-k {self.root} -c listen_addresses='' -F -c max_connections=200"
        data, log = str(self._data), str(self._log)
        self._run(self._pg_ctl, "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` ends open connections, as a restart of PostgreSQL does)."""
        self._run(self._pg_ctl, "-D", str(self._data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete its files."""
        subprocess.run(
            [*self._prefix, self._pg_ctl, "-D", str(self._data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """A started cluster of its own (stopping it affects no other test); removed afterwards."""
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh cluster, yield it, and remove it afterwards."""
    with postgres_cluster() as cluster:
        yield cluster.server
