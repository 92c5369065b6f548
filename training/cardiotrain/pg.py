"""The search's embedded default storage: a PostgreSQL server of its own under ~/.cache/cardiospike/pg.

Debian's PostgreSQL binaries (`initdb`, `pg_ctl`), a cluster initialised once and started on demand. It listens on
127.0.0.1, where the `cardiospike` role needs no password (trust: a local default). With `listen` (search
--listen ADDRESS) it also listens there for workers on other machines, which must give the role's password
(scram-sha-256): generated once into ~/.cache/cardiospike/pg/password (mode 0600), read by libpq from PGPASSWORD or
~/.pgpass, never printed. initdb and the server refuse to run as root, so under root they run as Debian's
`postgres` user, which is given traverse-only access (an ACL) to the directories above the cluster.
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


HBA = """# Written by cardiotrain/pg.py: no password on this machine, the role's password from anywhere else.
local all all trust
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
host all all 0.0.0.0/0 scram-sha-256
host all all ::/0 scram-sha-256
"""


def password_file() -> Path:
    return pg_root() / "password"


def _password() -> str:
    import secrets
    f = password_file()
    if not f.exists():
        f.touch(mode=0o600)
        f.write_text(secrets.token_urlsafe(24))
    return f.read_text().strip()


def ensure_local(port: int | None = None, listen: str | None = None) -> str:
    """Initialises (once) and starts (if stopped) the local server; returns its SQLAlchemy URL on 127.0.0.1.
    With `listen`, the server also listens on that address (restarted if it did not)."""
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
    if (data / "pg_hba.conf").read_text() != HBA:
        (data / "pg_hba.conf").write_text(HBA)
    if not listen or listen in ("127.0.0.1", "localhost"):
        addresses = "127.0.0.1"
    elif listen in ("0.0.0.0", "*"):
        addresses = listen   # every address, loopback included (binding both would collide)
    else:
        addresses = f"127.0.0.1,{listen}"
    running = _running(data)
    if running and listen and _setting(port, "listen_addresses") != addresses:
        log.info("restarting PostgreSQL to listen on %s", addresses)
        subprocess.run(_as_server_user([_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)]), check=True,
                       stdout=subprocess.DEVNULL)
        running = False
    if not running:
        log.info("starting PostgreSQL on %s:%d (log %s)", addresses, port, logs / "postgres.log")
        opts = f"-p {port} -k {sock} -c listen_addresses='{addresses}' -c max_connections=200"
        r = subprocess.run(_as_server_user([_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
                                            "-l", str(logs / "postgres.log"), "-o", opts]), stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            tail = (logs / "postgres.log").read_text(errors="replace")[-1500:]
            raise RuntimeError(f"PostgreSQL did not start on port {port} (CARDIOSPIKE_PG_PORT sets another):\n{tail}")
    _ensure_database(port)
    return url(port)


def _connect(port: int, dbname: str = "postgres"):
    import psycopg2
    deadline = time.monotonic() + 30
    while True:
        try:
            return psycopg2.connect(host="127.0.0.1", port=port, user=ROLE, dbname=dbname, connect_timeout=5)
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _setting(port: int, name: str) -> str:
    conn = _connect(port)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW {name}")
            return cur.fetchone()[0]
    finally:
        conn.close()


def _ensure_database(port: int) -> None:
    conn = _connect(port)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {DATABASE}")
            cur.execute(f"ALTER ROLE {ROLE} PASSWORD %s", (_password(),))   # for connections from elsewhere
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def remote_url(port: int | None = None) -> str:
    """The URL other machines use: this host's name, or its outbound address where the name means loopback here
    (Debian's /etc/hosts). The password comes from PGPASSWORD or ~/.pgpass on their side."""
    import socket
    port = int(port or os.environ.get("CARDIOSPIKE_PG_PORT", DEFAULT_PORT))
    host = socket.gethostname()
    try:
        loopback = socket.gethostbyname(host).startswith("127.")
    except OSError:
        loopback = True
    if loopback:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:   # no packet is sent
            s.connect(("192.0.2.123", 9))
            host = s.getsockname()[0]
    return f"postgresql+psycopg2://{ROLE}@{host}:{port}/{DATABASE}"


def stop() -> None:
    data = pg_root() / "data"
    if (data / "PG_VERSION").exists() and _running(data):
        subprocess.run(_as_server_user([_bin("pg_ctl"), "stop", "-m", "fast", "-D", str(data)]), check=True,
                       stdout=subprocess.DEVNULL)
