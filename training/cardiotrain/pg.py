"""The search's embedded default storage: a PostgreSQL server of its own under ~/.cache/cardiospike/pg.

Debian's PostgreSQL binaries (`initdb`, `pg_ctl`), a cluster initialised once and started on demand, listening on
127.0.0.1 only with trust authentication for the `cardiospike` role (a local default, not a shared server: for
workers on other machines give `--storage` a PostgreSQL they can all reach). initdb and the server refuse to run as
root, so under root they run as Debian's `postgres` user, which is given traverse-only access (an ACL) to the
directories above the cluster.
"""
from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

log = logging.getLogger("cardiotrain")
DEFAULT_PORT = 54329
ROLE, DATABASE = "cardiospike", "optuna"


def pg_root() -> Path:
    return Path(os.environ.get("CARDIOSPIKE_PG_ROOT", Path.home() / ".cache" / "cardiospike" / "pg"))


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} was not found: install Debian's postgresql package "
                           "(apt-get install postgresql), or give --storage URL")
    return found


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _grant_traverse(path: Path) -> None:
    """Root only: let the postgres user reach `path` (x on each directory above it, nothing else)."""
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam("postgres")
    for d in reversed(path.parents):
        st = d.stat()
        if st.st_mode & 0o001 or (st.st_uid == pw.pw_uid):
            continue
        if shutil.which("setfacl") is None:
            raise RuntimeError(f"the postgres user cannot reach {path} ({d} is closed to it) and setfacl is missing: "
                               "apt-get install acl, or set CARDIOSPIKE_PG_ROOT to an open directory")
        subprocess.run(["setfacl", "-m", "u:postgres:--x", str(d)], check=True)


def url(port: int = DEFAULT_PORT) -> str:
    return f"postgresql+psycopg2://{ROLE}@127.0.0.1:{port}/{DATABASE}"


def _running(data: Path) -> bool:
    r = subprocess.run(_as_server_user([_bin("pg_ctl"), "status", "-D", str(data)]), capture_output=True, text=True)
    return r.returncode == 0


def ensure_local(port: int | None = None) -> str:
    """Initialises (once) and starts (if stopped) the local server; returns its SQLAlchemy URL."""
    port = int(port or os.environ.get("CARDIOSPIKE_PG_PORT", DEFAULT_PORT))
    root = pg_root()
    data, sock, logs = root / "data", root / "run", root / "log"
    for d in (root, sock, logs):
        d.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _grant_traverse(root)
        shutil.chown(root, "postgres")
        for d in (sock, logs):
            shutil.chown(d, "postgres")
    if not (data / "PG_VERSION").exists():
        log.info("initialising PostgreSQL in %s", data)
        subprocess.run(_as_server_user([_bin("initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8",
                                        "--no-instructions"]), check=True, stdout=subprocess.DEVNULL)
    if not _running(data):
        log.info("starting PostgreSQL on 127.0.0.1:%d (log %s)", port, logs / "postgres.log")
        opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(_as_server_user([_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
                                        "-l", str(logs / "postgres.log"), "-o", opts]),
                       check=True, stdout=subprocess.DEVNULL)
    _ensure_database(port)
    return url(port)


def _ensure_database(port: int) -> None:
    import psycopg2
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user=ROLE, dbname="postgres", connect_timeout=5)
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        conn.close()


def stop() -> None:
    data = pg_root() / "data"
    if (data / "PG_VERSION").exists() and _running(data):
        subprocess.run(_as_server_user([_bin("pg_ctl"), "stop", "-m", "fast", "-D", str(data)]), check=True,
                       stdout=subprocess.DEVNULL)
