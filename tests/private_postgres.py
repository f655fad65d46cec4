"""A throwaway PostgreSQL cluster of a test's own (initdb + pg_ctl in a temporary folder, on a
free port): a test may restart or stop it without touching the shared server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    """The server refuses to run as root: run its tools as the ``postgres`` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class PrivateCluster:
    def __init__(self, folder: Path):
        self.data = folder / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._log = folder / "server.log"

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_postgres(str(BIN / "pg_ctl"), action, "-D", str(self.data), "-w",
                                    "-l", str(self._log), "-o", options, *extra),
                       check=True, capture_output=True, timeout=120)  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """A fast restart: the server ends every connection (AdminShutdown) and comes back."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")

    def database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def private_cluster():
    folder = Path(tempfile.mkdtemp(prefix="popsync_pg_"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = PrivateCluster(folder)
    subprocess.run(_as_postgres(str(BIN / "initdb"), "-D", str(cluster.data), "-A", "trust",
                                "-U", "postgres", "--no-sync", "-E", "UTF8"),
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
