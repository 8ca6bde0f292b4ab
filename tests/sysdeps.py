"""System components some tests need (chromium, PostgreSQL + PostGIS, pdftoppm).

``make sysdeps`` (run by ``make test``) installs them. A test that finds one missing calls
:func:`require_system`: under ``CI=true`` the test FAILS, so a missing install step cannot hide
behind a green run with skipped tests; elsewhere it skips with a message saying what to install.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True when the environment variable CI is ``true`` (any case), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require_system(what: str, available: bool, how_to_install: str) -> None:
    """Fail (under ``CI=true``) or skip the running test when ``what`` is not ``available``.

    Call it at the start of the test or in a fixture; ``how_to_install`` names the packages.
    """
    if available:
        return
    message = f"{what} not available; install: {how_to_install}"
    if in_ci():
        pytest.fail(f"{message}. CI=true: tests needing a system component must not be skipped "
                    "(`make sysdeps` as root installs them)", pytrace=False)
    pytest.skip(message)


def short_tmpdir(prefix: str) -> str:
    """A new folder with a short path, for servers and browsers that put sockets in it.

    Unix socket paths are limited to 107 bytes: under a long ``TMPDIR`` (CI clones into deep
    folders) PostgreSQL's and chromium's sockets would not fit, so ``/tmp`` is used when it can
    be written, the usual temporary folder otherwise.
    """
    import tempfile

    base = "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else None
    return tempfile.mkdtemp(prefix=prefix, dir=base)
