"""A small Chrome DevTools Protocol driver for tests: starts headless Chromium, opens
pages in separate browser contexts (separate storage, as two people on two machines) and
evaluates JavaScript in them. Waits poll a condition in the page against a deadline;
nothing here sleeps for a guessed time.

Needs only the Python standard library and the `websockets` module (Debian
python3-websockets)."""

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time

import websockets


class CdpError(Exception):
    pass


class Browser:
    """Headless Chromium with its DevTools endpoint; use as `async with Browser() as b`."""

    def __init__(self, binary="chromium", log_path=None):
        self.binary = shutil.which(binary) or binary
        self.log_path = log_path
        self.profile = None
        self.process = None
        self.ws = None
        self.ids = itertools.count(1)
        self.replies = {}
        self.listeners = []  # (session id, callback(method, params))
        self.reader = None

    async def __aenter__(self):
        self.profile = tempfile.mkdtemp(prefix="parley-chromium-")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        self.process = subprocess.Popen(
            [self.binary, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--password-store=basic", "--use-mock-keychain",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=log, stderr=log)
        # With port 0 Chromium picks a free port and writes it, with the browser's
        # endpoint path, to DevToolsActivePort in the profile.
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise CdpError(f"chromium exited with {self.process.returncode}")
            try:
                with open(port_file) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].strip() and lines[1].strip():
                    break
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:
                raise CdpError("chromium did not open its DevTools port")
            await asyncio.sleep(0.05)
        url = f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
        self.ws = await websockets.connect(url, max_size=None, ping_interval=None)
        self.reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc):
        if self.reader:
            self.reader.cancel()
        if self.ws:
            await self.ws.close()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)

    async def _read(self):
        async for raw in self.ws:
            message = json.loads(raw)
            if "id" in message:
                future = self.replies.pop(message["id"], None)
                if future and not future.done():
                    future.set_result(message)
            else:
                for session, callback in list(self.listeners):
                    if session == message.get("sessionId"):
                        callback(message["method"], message.get("params", {}))

    async def send(self, method, params=None, session=None, timeout=30):
        """One DevTools command; returns its result or raises CdpError."""
        command_id = next(self.ids)
        message = {"id": command_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self.replies[command_id] = future
        await self.ws.send(json.dumps(message))
        reply = await asyncio.wait_for(future, timeout)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    async def new_page(self, url, width=1280, height=800, mobile=False):
        """A tab in a fresh browser context, sized as a desktop or a phone screen."""
        context = (await self.send("Target.createBrowserContext"))["browserContextId"]
        target = (await self.send("Target.createTarget",
                                  {"url": "about:blank", "browserContextId": context}))["targetId"]
        session = (await self.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True}))["sessionId"]
        page = Page(self, session)
        self.listeners.append((session, page._event))
        await self.send("Runtime.enable", session=session)
        await self.send("Page.enable", session=session)
        await self.send("Network.enable", session=session)
        await self.send("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1,
                         "mobile": mobile}, session=session)
        if mobile:
            await self.send("Emulation.setTouchEmulationEnabled", {"enabled": True}, session=session)
        await self.send("Page.navigate", {"url": url}, session=session)
        return page


class Page:
    """One tab: evaluate JavaScript, wait for conditions, watch WebSocket frames."""

    def __init__(self, browser, session):
        self.browser = browser
        self.session = session
        self.exceptions = []  # uncaught JavaScript exceptions: a test should fail on any
        self.frames_in = []   # WebSocket text frames the page received
        self.frames_out = []  # and sent

    def _event(self, method, params):
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            self.exceptions.append(text)
        elif method == "Network.webSocketFrameReceived":
            self.frames_in.append(params.get("response", {}).get("payloadData", ""))
        elif method == "Network.webSocketFrameSent":
            self.frames_out.append(params.get("response", {}).get("payloadData", ""))

    async def eval(self, expression):
        """The value of a JavaScript expression (awaited if it is a promise)."""
        result = await self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(f"{expression!r}: "
                           f"{details.get('exception', {}).get('description') or details.get('text')}")
        return result.get("result", {}).get("value")

    async def wait(self, expression, what, timeout=20):
        """Polls a JavaScript condition until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = await self.eval(expression)
            except CdpError:
                value = None  # e.g. the page is still loading
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.05)

    async def wait_for_frame(self, direction, predicate, what, timeout=20):
        """Waits until a WebSocket frame in `direction` ('in' or 'out') satisfies predicate."""
        frames = self.frames_in if direction == "in" else self.frames_out
        deadline = time.monotonic() + timeout
        while True:
            for raw in frames:
                try:
                    if predicate(json.loads(raw)):
                        return
                except ValueError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.05)

    async def type_text(self, text):
        """Types into the focused element as a keyboard would (Input.insertText)."""
        await self.browser.send("Input.insertText", {"text": text}, session=self.session)

    async def screenshot(self, path):
        data = (await self.browser.send("Page.captureScreenshot", {"format": "png"},
                                        session=self.session))["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
