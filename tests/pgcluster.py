"""A throwaway PostgreSQL server for the tests: Debian's ``postgresql`` binaries, a cluster in a temporary folder.

``make env`` installs the package (root on Debian/Ubuntu: :func:`helpers.engine.env.up`). The cluster runs as
the ``postgres`` account when the tests run as root (PostgreSQL refuses to run as root), listens on a free
port of 127.0.0.1 and on a socket in its own folder, and requires a password (SCRAM). It is stopped and
deleted afterwards, whatever happened.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ci_rules import unavailable


@dataclass(frozen=True)
class Server:
    port: int
    password: str  #: the grader role's
    url: str  #: postgresql+psycopg://grader:<password>@127.0.0.1:<port>/gradebook
    admin_url: str


def pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (Debian keeps them under /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], user: str | None, **kw) -> None:
    proc = subprocess.run(cmd, user=user, capture_output=True, text=True, timeout=120, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed: {(proc.stdout + proc.stderr)[-800:]}")


@contextmanager
def postgres_server() -> Iterator[Server]:
    """Start a cluster with a database ``gradebook`` owned by a password-authenticated role ``grader``."""
    from sqlalchemy import create_engine, text

    bindir = pg_bin()
    if bindir is None:
        unavailable("PostgreSQL is not installed (Debian package `postgresql`; `make env` installs it as root)")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            unavailable("there is no `postgres` account to run PostgreSQL as (root may not run it)")
        user = "postgres"
    base = Path(tempfile.mkdtemp(prefix="course-pg-"))
    data, admin_pw, grader_pw = base / "data", secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    (base / "pw").write_text(admin_pw)
    if user:
        shutil.chown(base, user)
        shutil.chown(base / "pw", user)
    port = _free_port()
    started = False
    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "admin", f"--pwfile={base / 'pw'}"]
        _run([*initdb, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"], user)
        opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"], user)
        started = True
        admin = f"postgresql+psycopg://admin:{admin_pw}@127.0.0.1:{port}/postgres"
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE ROLE grader LOGIN PASSWORD '{grader_pw}'"))
            conn.execute(text("CREATE DATABASE gradebook OWNER grader"))
        engine.dispose()
        url = f"postgresql+psycopg://grader:{grader_pw}@127.0.0.1:{port}/gradebook"
        yield Server(port, grader_pw, url, admin)
    finally:
        if started:
            subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                user=user,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(base, ignore_errors=True)
