"""Headless chromium for the tests: open a local HTML page with the network cut, and report.

:func:`open_page` starts ``chromium --headless`` with a fresh profile, every network route
closed (a dead proxy for all hosts, every host name unresolvable), drives it through the Chrome
DevTools Protocol over ``--remote-debugging-pipe`` (file descriptors 3/4, no websocket package
needed), loads the page, waits, and returns a :class:`PageResult`: a PNG screenshot, the failed
requests, the requests that tried to leave the machine, console errors, uncaught exceptions and
the values of JavaScript expressions evaluated in the page.

``system_cjk_fonts=False`` runs chromium with a fontconfig that sees only the Latin fonts of
``/usr/share/fonts/truetype`` (DejaVu, Liberation), as on a machine with no CJK font installed:
Chinese text then renders only through a font the page brings itself.

Tests that need chromium use :data:`needs_chromium` (or the ``chromium_exe`` fixture of
conftest.py, or :func:`require_chromium`): when it is not installed they fail under ``CI=true``
and skip with a clear message elsewhere (``make sysdeps`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .sysdeps import require_system, short_tmpdir

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Network cut: a proxy that refuses every connection, loopback not exempted, no name resolves.
NETWORK_OFF = (
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
#: Network cut except loopback (a local Jupyter/Voilà server): only 127.0.0.1 is reachable.
LOOPBACK_ONLY = (
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
)
#: WebGL without a GPU: ANGLE on SwiftShader (software rasteriser).
WEBGL_FLAGS = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader")

LATIN_FONT_DIRS = ("/usr/share/fonts/truetype",)


def chromium_path() -> str | None:
    """Path of a chromium/chrome executable, or None."""
    env = os.environ.get("GRIDGIS_CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """Path of chromium; fails the test under ``CI=true`` when there is none, else skips it."""
    exe = chromium_path()
    require_system("headless chromium", exe is not None,
                   "Debian package chromium (`make sysdeps` as root), or set GRIDGIS_CHROMIUM")
    assert exe is not None
    return exe


#: Marks a test that needs chromium (through the ``chromium_exe`` fixture of conftest.py).
needs_chromium = pytest.mark.usefixtures("chromium_exe")


class BrowserError(RuntimeError):
    """Chromium could not be driven (did not start, closed the pipe, timed out)."""


@dataclass
class PageResult:
    """What happened when a page was opened."""

    url: str
    screenshot: bytes
    failed_requests: list[dict[str, str]] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    load_seconds: float = 0.0

    def image(self):
        """Screenshot as an RGB numpy array (height, width, 3)."""
        import numpy as np
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(self.screenshot)).convert("RGB"))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.screenshot)
        return path

    @property
    def problems(self) -> list[str]:
        """Failed or outgoing requests and console errors, one line each (empty when clean)."""
        out = [f"failed request {r['url'][:200]}: {r['error']}" for r in self.failed_requests]
        out += [f"external request {u[:200]}" for u in self.external_requests]
        out += [f"console error: {e[:500]}" for e in self.console_errors]
        return out


class _Pipe:
    """CDP over chromium's --remote-debugging-pipe: JSON messages separated by NUL bytes."""

    def __init__(self, proc: subprocess.Popen, write_fd: int, read_fd: int):
        self.proc = proc
        self.wfd = write_fd
        self.rfd = read_fd
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any] | None:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.rfd], [], [], min(left, 0.2))
            if not ready:
                if self.proc.poll() is not None:
                    raise BrowserError(f"chromium exited with code {self.proc.returncode}")
                continue
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed the DevTools pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply is None:
                raise BrowserError(f"no reply to {method} within {timeout} s")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds: float, until: str | None = None) -> bool:
        """Collect events for ``seconds`` (or until an event named ``until`` arrives)."""
        deadline = time.monotonic() + seconds
        if until and any(e.get("method") == until for e in self.events):
            return True
        while True:
            msg = self._read_message(deadline)
            if msg is None:
                return False
            if "method" in msg:
                self.events.append(msg)
                if until and msg["method"] == until:
                    return True


def _fontconfig(tmp: Path, font_dirs: tuple[str, ...] = LATIN_FONT_DIRS) -> Path:
    dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs if Path(d).is_dir())
    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"{dirs}<cachedir>{tmp / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return conf


def _remote_object_text(obj: dict[str, Any]) -> str:
    if "value" in obj:
        return str(obj["value"])
    return obj.get("description") or obj.get("unserializableValue") or obj.get("type", "")


def open_page(
    page: str | Path,
    *,
    width: int = 1200,
    height: int = 800,
    wait: float = 1.5,
    evaluate: dict[str, str] | None = None,
    webgl: bool = False,
    system_cjk_fonts: bool = True,
    font_dirs: tuple[str, ...] | None = None,
    timeout: float = 60.0,
    allow_loopback: bool = False,
) -> PageResult:
    """Open ``page`` (a local HTML file or a URL) in headless chromium with the network cut.

    Parameters
    ----------
    page
        Path of an HTML file (opened as ``file://``) or a URL.
    width, height
        Viewport size in CSS pixels (device scale factor 1).
    wait
        Seconds to keep collecting events after the ``load`` event (async errors, rendering).
    evaluate
        ``{name: javascript expression}``; each is evaluated after the wait (promises awaited,
        values returned by value) into :attr:`PageResult.values`.
    webgl
        Enable WebGL through ANGLE/SwiftShader (software) for deck.gl pages.
    system_cjk_fonts
        False hides every CJK font of the system from chromium (only DejaVu/Liberation remain).
    font_dirs
        The only font folders chromium sees (``()``: an empty font folder, no font at all);
        overrides ``system_cjk_fonts``.
    allow_loopback
        Let the page reach servers on 127.0.0.1 (and nothing else).
    """
    exe = require_chromium()
    url = page if isinstance(page, str) and "://" in page else Path(page).resolve().as_uri()
    tmp = Path(short_tmpdir("gridgis-chromium-"))
    env = {**os.environ, "TMPDIR": str(tmp)}  # chromium's singleton socket goes under TMPDIR
    if font_dirs is not None:
        env["FONTCONFIG_FILE"] = str(_fontconfig(tmp, font_dirs))
    elif not system_cjk_fonts:
        env["FONTCONFIG_FILE"] = str(_fontconfig(tmp))
    args = [exe, *BASE_FLAGS, *(LOOPBACK_ONLY if allow_loopback else NETWORK_OFF), *(WEBGL_FLAGS if webgl else ()),
            f"--user-data-dir={tmp / 'profile'}", f"--window-size={width},{height}",
            "--remote-debugging-pipe", "about:blank"]
    cmd_r, cmd_w = os.pipe()  # we write commands, chromium reads them on fd 3
    res_r, res_w = os.pipe()  # chromium writes replies on fd 4, we read them
    import fcntl

    child_in = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
    child_out = fcntl.fcntl(res_w, fcntl.F_DUPFD, 10)
    os.close(cmd_r)
    os.close(res_w)

    def _child_fds() -> None:
        os.dup2(child_in, 3)
        os.dup2(child_out, 4)

    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, close_fds=False,
                            preexec_fn=_child_fds)
    os.close(child_in)
    os.close(child_out)
    cdp = _Pipe(proc, cmd_w, res_r)
    try:
        return _drive(cdp, url, width, height, wait, evaluate or {}, timeout)
    except BrowserError as exc:
        stderr = b""
        if proc.poll() is not None and proc.stderr is not None:
            stderr = proc.stderr.read()[-3000:]
        raise BrowserError(f"{exc}\n{stderr.decode(errors='replace')}") from exc
    finally:
        try:
            cdp.send("Browser.close", timeout=5)
        except (BrowserError, OSError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for fd in (cmd_w, res_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _drive(cdp: _Pipe, url: str, width: int, height: int, wait: float,
           evaluate: dict[str, str], timeout: float) -> PageResult:
    targets = cdp.send("Target.getTargets")["targetInfos"]
    pages = [t for t in targets if t["type"] == "page"]
    target = pages[0]["targetId"] if pages else cdp.send(
        "Target.createTarget", {"url": "about:blank"})["targetId"]
    session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Network", "Runtime", "Log"):
        cdp.send(f"{domain}.enable", session=session)
    cdp.send("Emulation.setDeviceMetricsOverride",
             {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
             session=session)
    cdp.events.clear()
    t0 = time.monotonic()
    nav = cdp.send("Page.navigate", {"url": url}, session=session)
    if nav.get("errorText"):
        raise BrowserError(f"navigation to {url} failed: {nav['errorText']}")
    if not cdp.pump(timeout, until="Page.loadEventFired"):
        raise BrowserError(f"{url} did not finish loading within {timeout} s")
    load_seconds = time.monotonic() - t0
    cdp.pump(wait)
    values = {}
    for name, expr in evaluate.items():
        r = cdp.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                          "awaitPromise": True}, session=session, timeout=timeout)
        if "exceptionDetails" in r:
            values[name] = BrowserError(_exception_text(r["exceptionDetails"]))
        else:
            values[name] = r["result"].get("value")
    shot = cdp.send("Page.captureScreenshot", {"format": "png"}, session=session, timeout=timeout)
    cdp.pump(0.05)
    return _result(cdp.events, url, base64.b64decode(shot["data"]), values, load_seconds)


def _exception_text(details: dict[str, Any]) -> str:
    exc = details.get("exception") or {}
    text = exc.get("description") or " ".join(
        str(x) for x in (details.get("text", "exception"), exc.get("value", "")) if x != "")
    where = details.get("url", "")
    return f"{text} ({where}:{details.get('lineNumber', '?')})" if where else text


def _result(events: list[dict[str, Any]], url: str, png: bytes, values: dict[str, Any],
            load_seconds: float) -> PageResult:
    urls: dict[str, str] = {}
    res = PageResult(url=url, screenshot=png, values=values, load_seconds=load_seconds)
    for ev in events:
        method, p = ev["method"], ev.get("params", {})
        if method == "Network.requestWillBeSent":
            u = p["request"]["url"]
            urls[p["requestId"]] = u
            if not u.startswith(("file:", "data:", "blob:", "about:", "chrome",
                                 "http://127.0.0.1:", "ws://127.0.0.1:")):
                res.external_requests.append(u)
        elif method == "Network.loadingFailed":
            res.failed_requests.append({"url": urls.get(p["requestId"], "?"),
                                        "error": p.get("errorText", ""),
                                        "type": p.get("type", "")})
        elif method == "Runtime.exceptionThrown":
            res.console_errors.append(_exception_text(p["exceptionDetails"]))
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(_remote_object_text(a) for a in p.get("args", []))
            if p["type"] in ("error", "assert"):
                res.console_errors.append(text)
            elif p["type"] == "warning":
                res.console_warnings.append(text)
        elif method == "Log.entryAdded":
            entry = p["entry"]
            text = f"[{entry.get('source')}] {entry.get('text', '')} {entry.get('url', '')}".strip()
            if entry.get("level") == "error":
                res.console_errors.append(text)
            elif entry.get("level") == "warning":
                res.console_warnings.append(text)
    return res


def blank_page(path: str | Path, *, background: str = "#ffffff") -> Path:
    """Write an empty page (for comparing screenshots against)."""
    path = Path(path)
    path.write_text(f"<!DOCTYPE html><html><body style='margin:0;background:{background}'>"
                    "</body></html>", encoding="utf-8")
    return path


def colored_fraction(img, *, min_saturation: int = 40) -> float:
    """Share of pixels whose RGB channels differ by at least ``min_saturation`` (not grey)."""
    import numpy as np

    arr = np.asarray(img, dtype=np.int16)
    spread = arr.max(axis=2) - arr.min(axis=2)
    return float((spread >= min_saturation).mean())
