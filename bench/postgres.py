"""A private PostgreSQL cluster for development and tests, from the distribution's server binaries.

``initdb`` and ``pg_ctl`` under a directory of ours, listening on a loopback port only, with
trust auth for one role (the cluster is reachable from this host alone and lives as long as the
run). The server refuses to run as root, so under root it runs as the ``postgres`` system user,
which the Debian package creates.

    python -m bench.postgres start DIR [--port N]   # prints the SQLAlchemy URL
    python -m bench.postgres stop DIR
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROLE = "consent"
DATABASE = "consent_ledger"


def server_bin(tool: str) -> Path:
    """``initdb``/``pg_ctl`` of the newest installed server (Debian keeps them off PATH)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1])
    on_path = shutil.which(tool)
    if on_path:
        return Path(on_path)
    raise FileNotFoundError(f"no PostgreSQL {tool}: install the server (scripts/setup does: apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalPostgres:
    def __init__(self, root: Path, port: int | None = None):
        self.root = Path(root).resolve()
        self.data = self.root / "data"
        self.port_file = self.root / "port"
        self.port = port or (int(self.port_file.read_text()) if self.port_file.exists() else _free_port())

    @property
    def url(self) -> str:
        return self.url_of(DATABASE)

    def url_of(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/{database}"

    def _as_server_user(self, args: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return args
        return ["runuser", "-u", "postgres", "--", *args]

    def _run(self, args: list[str]) -> None:
        result = subprocess.run(self._as_server_user(args), capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr or result.stdout}")

    def start(self) -> str:
        """Initialise (first time), start, and make the database; returns its URL."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.root.chmod(0o700)  # its parents must let the server user through (a+x)
        if not (self.data / "PG_VERSION").exists():
            self._run([str(server_bin("initdb")), "-D", str(self.data), "-U", ROLE, "--auth=trust",
                       "-E", "UTF8", "--locale=C.UTF-8"])
        self.port_file.write_text(str(self.port))
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run([str(server_bin("pg_ctl")), "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"),
                   "-w", "-t", "60", "start"])
        self._create_database()
        return self.url

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=ROLE, dbname="postgres", autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def reset(self) -> None:
        """Drop and recreate the database: a clean schema for the next test."""
        self.fresh_database(DATABASE)

    def fresh_database(self, database: str) -> str:
        """Drop and recreate ``database`` (one more beside the default, e.g. for a system of its own);
        returns its URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=ROLE, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
        return self.url_of(database)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(server_bin("pg_ctl")), "-D", str(self.data), "-m", "fast", "-w", "stop"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.postgres", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    cluster = LocalPostgres(args.dir, args.port)
    if args.action == "start":
        print(cluster.start())
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
