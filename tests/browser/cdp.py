"""A headless Chromium driven over the Chrome DevTools Protocol (a websocket, `websocket-client`).

    with Chromium(tmp_path) as browser:
        page = browser.new_page()
        page.navigate("http://127.0.0.1:8000/")
        page.wait_for("document.querySelector('#synthesize').disabled === false")
        page.evaluate("document.querySelector('#text').value = 'hello'")

Chromium (Debian's package) runs in its own process group with a throw-away profile, no
network besides the loopback addresses the tests give it, and is killed with its group on
exit. ``CHROMIUM`` names another binary. Frames (an iframe of the Snakemake report) are reached
through :meth:`Page.frame_evaluate` with an isolated world of the frame.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from browser.procs import kill_group

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
         "--disable-features=Translate,MediaRouter,OptimizationHints", "--window-size=1280,1600"]


def chromium_path() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class CDPError(RuntimeError):
    pass


class Connection:
    """One websocket to the browser; commands are sent flat (``sessionId`` per page)."""

    def __init__(self, ws_url: str, timeout: float = 30.0):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60.0):
        import websocket

        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                reply = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(f"no answer to {method} in {timeout:g} s") from None
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {method} in {timeout:g} s")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


class Page:
    def __init__(self, conn: Connection, target: str, session: str):
        self.conn, self.target, self.session = conn, target, session
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method: str, params: dict | None = None, timeout: float = 60.0):
        return self.conn.send(method, params, self.session, timeout)

    def navigate(self, url: str, timeout: float = 60.0) -> None:
        res = self.send("Page.navigate", {"url": url}, timeout=timeout)
        if res.get("errorText"):
            raise CDPError(f"navigate {url}: {res['errorText']}")
        self.wait_for("document.readyState === 'complete'", timeout=timeout)

    def evaluate(self, expression: str, timeout: float = 60.0, context: int | None = None):
        """The value of a JavaScript expression (awaited if it is a promise)."""
        params = {"expression": expression, "awaitPromise": True, "returnByValue": True,
                  "timeout": int(timeout * 1000)}
        if context is not None:
            params["contextId"] = context
        res = self.send("Runtime.evaluate", params, timeout=timeout + 5)
        if "exceptionDetails" in res:
            details = res["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"JavaScript error in {expression[:120]!r}: {text}")
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60.0, context: int | None = None, what: str = ""):
        """Poll until ``expression`` is truthy; its value."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression, timeout=min(30.0, timeout), context=context)
            except CDPError:
                last = None
            if last:
                return last
            time.sleep(0.2)
        raise TimeoutError(f"waited {timeout:g} s for {what or expression!r} (last value {last!r})")

    def frames(self) -> list[dict]:
        """Every frame of the page: {'id', 'url'}."""
        out = []

        def walk(node):
            frame = node["frame"]
            out.append({"id": frame["id"], "url": frame.get("url", "")})
            for child in node.get("childFrames", []):
                walk(child)

        walk(self.send("Page.getFrameTree")["frameTree"])
        return out

    def frame_context(self, frame_id: str) -> int:
        """An execution context inside a frame (an isolated world: it sees the frame's DOM)."""
        res = self.send("Page.createIsolatedWorld", {"frameId": frame_id, "worldName": "emotts-test",
                                                     "grantUniveralAccess": True})
        return res["executionContextId"]

    def screenshot(self, path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def console_errors(self) -> list[str]:
        out = []
        for ev in self.conn.events:
            if ev.get("sessionId") != self.session:
                continue
            if ev["method"] == "Runtime.exceptionThrown":
                out.append(ev["params"]["exceptionDetails"].get("text", ""))
            elif ev["method"] == "Runtime.consoleAPICalled" and ev["params"].get("type") == "error":
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in ev["params"]["args"]))
        return out


class Chromium:
    """A headless Chromium process with a DevTools websocket (see the module docstring)."""

    def __init__(self, workdir, binary: str | None = None, timeout: float = 60.0):
        self.binary = binary or chromium_path()
        if not self.binary:
            raise FileNotFoundError("chromium not installed")
        self.profile = Path(workdir) / "chromium-profile"
        self.profile.mkdir(parents=True, exist_ok=True)
        (self.profile / "DevToolsActivePort").unlink(missing_ok=True)  # a stale one from an earlier run
        self.log_path = Path(workdir) / "chromium.log"
        self._log = open(self.log_path, "w")
        cmd = [self.binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-address=127.0.0.1",
               "--remote-debugging-port=0", "about:blank"]
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.conn = None
        try:
            port_file = self.profile / "DevToolsActivePort"
            deadline = time.monotonic() + timeout
            while not (port_file.is_file() and len(port_file.read_text().split("\n")) >= 2):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chromium did not start: {self.log_path.read_text()[-3000:]}")
                time.sleep(0.1)
            port, path = port_file.read_text().split("\n")[:2]
            self.conn = Connection(f"ws://127.0.0.1:{port.strip()}{path.strip()}")
        except BaseException:
            self.close()
            raise

    def new_page(self) -> Page:
        target = self.conn.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.conn.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self.conn, target, session)

    def close(self) -> None:
        conn = self.conn
        if conn is not None:
            try:
                conn.send("Browser.close", timeout=5)
            except Exception:
                pass
            conn.close()
        kill_group(self.proc)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
