"""Start a throw-away PostgreSQL + PostGIS server on loopback for the tests.

The server binaries come from Debian's packages (installed by ``make test`` through
scripts/install_system_deps.sh). As root, the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .sysdeps import short_tmpdir


def _bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def unavailable_reason() -> str | None:
    """Why a PostGIS server cannot be started here, or None when it can."""
    bindir = _bindir()
    if bindir is None:
        return "PostgreSQL server binaries not installed (apt-get install postgresql postgis)"
    if not glob.glob("/usr/share/postgresql/*/extension/postgis.control"):
        return "PostGIS extension not installed (apt-get install postgis)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to drop to the postgres user"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgis_server() -> Iterator[str]:
    """Yield a ``postgresql://`` URL of a fresh database with PostGIS enabled."""
    bindir = _bindir()
    assert bindir is not None
    root = os.geteuid() == 0
    tmp = short_tmpdir("gridgis-pg-")  # the server's socket path must stay under 107 bytes
    data, sock = os.path.join(tmp, "data"), os.path.join(tmp, "sock")
    os.makedirs(sock)
    user = "postgres" if root else os.environ.get("USER", "postgres")
    if root:
        shutil.chown(tmp, "postgres")
        shutil.chown(sock, "postgres")

    def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        full = (["runuser", "-u", "postgres", "--"] if root else []) + list(cmd)
        return subprocess.run(full, check=check, capture_output=True, text=True, timeout=120)

    port = _free_port()
    run(f"{bindir}/initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C")
    logfile = os.path.join(tmp, "server.log")
    run(
        f"{bindir}/pg_ctl", "-D", data, "-l", logfile, "-w", "-t", "60", "-o",
        f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c full_page_writes=off", "start",
    )
    try:
        for _ in range(50):
            if run(f"{bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(port), check=False).returncode == 0:
                break
            time.sleep(0.2)
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user, "gridgis")
        run("psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "gridgis", "-c",
            "CREATE EXTENSION postgis")
        yield f"postgresql://{user}@127.0.0.1:{port}/gridgis"
    finally:
        run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(tmp, ignore_errors=True)
