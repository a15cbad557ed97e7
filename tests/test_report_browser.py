"""report.html in headless Chromium: the verdict table and every figure render, no errors.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on file descriptor 3, replies on 4, NUL-separated JSON), with the standard
library only. The page is the unmodified report: its Content-Security-Policy allows no
scripts, so the checks run through ``Runtime.evaluate`` (not subject to the page's
CSP). Console messages, exceptions, CSP violations, failed loads and every network
request are collected from protocol events.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0

CHECKS = """JSON.stringify({
  verdictRows: Array.from(document.querySelectorAll('#verdicts tbody tr')).map(
    r => [r.dataset.claim, r.dataset.verdict, r.querySelector('.badge').textContent,
          getComputedStyle(r.querySelector('.badge')).backgroundColor]),
  images: Array.from(document.images).map(
    i => ({complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
           shownWidth: i.getBoundingClientRect().width, scheme: i.src.split(':')[0]})),
  demo: !!document.getElementById('demo-warning'),
  scripts: document.scripts.length,
  styled: getComputedStyle(document.querySelector('.demo-warning') || document.body).borderTopStyle
})"""


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class DevTools:
    """A headless Chromium driven over ``--remote-debugging-pipe``."""

    def __init__(self, binary: str, profile: Path):
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # high descriptors first, so that dup2 onto 3 and 4 cannot clobber a source
        child_read = fcntl.fcntl(commands_read, fcntl.F_DUPFD_CLOEXEC, 10)
        child_write = fcntl.fcntl(replies_write, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(commands_read)
        os.close(replies_write)
        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank",
        ]  # fmt: skip
        self.pid = os.posix_spawn(
            binary,
            args,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, child_read, 3),
                (os.POSIX_SPAWN_DUP2, child_write, 4),
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
        os.close(child_read)
        os.close(child_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, predicate, timeout: float = TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            self.events.append(message)
            if predicate(message):
                return message

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        request = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self._commands, json.dumps(request).encode() + b"\0")
        reply = self.wait_for(lambda m, i=self._next_id: m.get("id") == i)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self._commands)
        os.close(self._replies)


@pytest.fixture(scope="module")
def rendered(report_study, tmp_path_factory):
    """Load a copy of report.html in Chromium; return the checks and the protocol events."""
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium binary (chromium, chromium-browser, google-chrome) on PATH")
    folder = tmp_path_factory.mktemp("browser")
    page = folder / "report.html"
    shutil.copyfile(report_study.folder / "report.html", page)
    browser = DevTools(binary, folder / "profile")
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Page.navigate", {"url": page.as_uri()}, session)
        browser.wait_for(lambda m: m.get("method") == "Page.loadEventFired")
        result = browser.call(
            "Runtime.evaluate", {"expression": CHECKS, "returnByValue": True}, session
        )
        browser.call("Runtime.evaluate", {"expression": "1", "returnByValue": True}, session)
        return json.loads(result["result"]["value"]), browser.events, page.as_uri()
    finally:
        browser.close()


def test_verdict_table_renders_with_coloured_badges(rendered, report_study):
    checks, _, _ = rendered
    claims = report_study.results["claims"]
    assert [row[:2] for row in checks["verdictRows"]] == [[c["id"], c["verdict"]] for c in claims]
    colours = {row[1]: row[3] for row in checks["verdictRows"]}
    assert all(colour not in ("", "rgba(0, 0, 0, 0)") for colour in colours.values())
    assert len(set(colours.values())) == len(colours), "each verdict has its own colour"
    assert checks["demo"] is True and checks["styled"] == "solid", "the stylesheet is applied"
    assert checks["scripts"] == 0


def test_every_figure_decodes(rendered):
    checks, _, _ = rendered
    images = checks["images"]
    assert len(images) == 5
    for image in images:
        assert image["complete"] and image["scheme"] == "data"
        assert image["width"] > 0 and image["height"] > 0
        assert image["shownWidth"] > 100


def test_no_errors_and_no_network(rendered):
    _, events, page_url = rendered
    problems = [
        e["params"]
        for e in events
        if e.get("method") == "Runtime.exceptionThrown"
        or (
            e.get("method") == "Runtime.consoleAPICalled"
            and e["params"]["type"] in ("error", "warning", "assert")
        )
        or (
            e.get("method") == "Log.entryAdded"
            and e["params"]["entry"]["level"] in ("error", "warning")
        )
        or e.get("method") == "Network.loadingFailed"
    ]
    assert problems == []
    requested = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert page_url in requested
    assert [url for url in requested if url != page_url and not url.startswith("data:")] == []
