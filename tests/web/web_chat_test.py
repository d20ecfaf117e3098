#!/usr/bin/python3
"""The web chat page in a real browser: headless Chromium, driven through the DevTools
protocol, against the real parley-server on ephemeral loopback ports.

Two people sign in from two browser contexts (alice on a desktop-sized window, bob on a
phone-sized one) and a third, carol, speaks the protocol over a raw TCP socket as the
terminal client does. They join a room, see each other's presence and messages, replayed
history and its divider, /me actions, direct messages and unread counts; markup in a
message is shown as text and never runs; the server's pings are answered; a dropped
connection and a server restart are both survived with every message shown exactly once.
Screenshots of both pages are saved in the output directory.

Every wait polls a condition (in the page, or in frames received) against a deadline.

Usage: web_chat_test.py --server PARLEY_SERVER --out DIR [--chromium PATH]
Exit codes: 0 passed, 1 failed, 77 skipped (no Chromium).
"""

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

ROOM = "lobby"
SIDE = "side.room"
MARKUP = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>bold</b>'


def js(value):
    """A Python value as a JavaScript literal."""
    return json.dumps(value)


class Server:
    """parley-server with its TCP and HTTP listeners on loopback; restartable on the same
    ports."""

    def __init__(self, binary, workdir, extra_args, label="server"):
        self.binary = binary
        self.label = label
        self.workdir = workdir
        self.extra_args = extra_args
        self.process = None
        self.tcp_port = 0
        self.http_port = 0
        self.runs = 0

    async def start(self):
        self.runs += 1
        self.log_path = os.path.join(self.workdir, f"{self.label}-{self.runs}.log")
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [self.binary, "--listen", f"127.0.0.1:{self.tcp_port}",
             "--http-listen", f"127.0.0.1:{self.http_port}", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT)
        # The server logs where each listener is bound: wait for both lines.
        deadline = time.monotonic() + 20
        while True:
            with open(self.log_path, errors="replace") as f:
                text = f.read()
            tcp = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
            http = re.search(r"http[^\n]*?(?:listening on|on) (?:http://)?127\.0\.0\.1:(\d+)", text,
                             re.IGNORECASE)
            if tcp and http:
                self.tcp_port, self.http_port = int(tcp.group(1)), int(http.group(1))
                return
            if self.process.poll() is not None:
                raise AssertionError(f"parley-server exited at start:\n{text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"parley-server did not report its listeners:\n{text}")
            await asyncio.sleep(0.05)

    async def stop(self):
        """SIGTERM, as an operator's restart does: bye to everyone, then exit 0."""
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.get_running_loop().run_in_executor(None, self.process.wait, 20)
        if code != 0:
            raise AssertionError(f"parley-server exited with {code} on SIGTERM")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class TcpPeer:
    """A participant on the plain TCP transport, one JSON line per frame, as `parley chat`
    speaks it. Answers the server's pings."""

    def __init__(self):
        self.frames = []
        self.changed = asyncio.Event()
        self.ids = itertools.count(1)

    async def connect(self, port, name):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.task = asyncio.create_task(self._read())
        reply = await self.request({"op": "hello", "name": name})
        assert reply["op"] == "welcome", reply
        return self

    async def _read(self):
        while True:
            line = await self.reader.readline()
            if not line:
                break
            frame = json.loads(line)
            if frame.get("op") == "ping":
                self.send({"op": "pong"})
            self.frames.append(frame)
            self.changed.set()

    def send(self, frame):
        self.writer.write(json.dumps(frame).encode() + b"\n")

    async def wait_for(self, predicate, what, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.frames:
                if predicate(frame):
                    return frame
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"TCP peer: timed out waiting for {what}")
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def request(self, frame):
        frame = dict(frame, id=f"t{next(self.ids)}")
        self.send(frame)
        return await self.wait_for(lambda f: f.get("id") == frame["id"], f"the reply to {frame}")

    async def close(self):
        self.writer.close()
        self.task.cancel()


# ---- Page helpers (JavaScript run in the page) -------------------------------------------

def same_list_js(expression, expected):
    """A JavaScript test that the array `expression` equals `expected`, element by element."""
    return (f"(() => {{ const a = {expression}, b = {js(expected)};"
            " return a.length === b.length && a.every((x, i) => x === b[i]); })()")


def messages_js(room):
    """The messages shown in a room, as 'from: text' or '* from action' lines."""
    return (f"[...document.querySelectorAll('.pane[data-room={js(room)}] .msg:not(.pending)')]"
            ".map(r => { const from = r.querySelector('.from').textContent;"
            " const text = r.querySelector('.text').textContent;"
            " return r.classList.contains('action') ? '* ' + from + ' ' + text : from + ': ' + text; })")


async def messages(page, room):
    return await page.eval(messages_js(room))


async def wait_messages(page, room, expected, what):
    """Waits until the room shows exactly `expected`, in order: a message shown twice,
    or missing, keeps it from matching."""
    try:
        await page.wait(same_list_js(messages_js(room), expected), what)
    except AssertionError:
        raise AssertionError(f"{what}: expected {expected}, shown {await messages(page, room)}")


async def sign_in(page, name):
    await page.wait("document.getElementById('login-form') !== null", "the sign-in form")
    await page.eval(f"document.getElementById('login-name').value = {js(name)};"
                    "document.getElementById('login-form').requestSubmit(); true")
    await page.wait("!document.getElementById('app').hidden && document.body.dataset.conn === 'online'",
                    f"{name} to be signed in")


def joined_js(room):
    return f"parleyDebug.state().rooms.some(r => r.topic === {js(room)} && r.joined)"


async def join_by_form(page, room):
    await page.eval(f"document.getElementById('join-name').value = {js(room)};"
                    "document.getElementById('join-form').requestSubmit(); true")
    await page.wait(joined_js(room), f"the page to join {room}")


async def say(page, text):
    """Types a line into the composer as a keyboard would, and sends it."""
    await page.eval("document.getElementById('message').focus(); true")
    await page.type_text(text)
    await page.eval("document.getElementById('composer').requestSubmit(); true")


async def say_in_room(page, room, text, line, log):
    """Says `text` in `room` and waits for the server's echo (shown as `line`), so that the
    next message, from anyone, is surely published after it."""
    await say(page, text)
    last = f"({messages_js(room)}).slice(-1)[0] === {js(line)}"
    await page.wait(last, f"the echo of {line!r}")
    log.append(line)


async def open_thread(page, key):
    await page.eval(f"document.querySelector('li[data-thread=\"' + {js(key)} + '\"] button').click(); true")
    await page.wait(f"parleyDebug.state().current === {js(key)}", f"thread {key} to open")


def members_js():
    return "[...document.querySelectorAll('#member-list .member')].map(b => b.textContent)"


async def wait_members(page, names, what):
    await page.wait(same_list_js(members_js(), sorted(names)), what)


def badge_js(key):
    return (f"(() => {{ const b = document.querySelector('li[data-thread=\"' + {js(key)} + '\"] .badge');"
            " return b && !b.hidden ? b.textContent : ''; })()")


# ---- The test --------------------------------------------------------------------------

async def run(args, workdir):
    server = Server(args.server, workdir, ["--ping-interval", "1s", "--ping-timeout", "5s"])
    token_server = Server(args.server, workdir, ["--token", "s3cret"], label="server-token")
    await server.start()
    await token_server.start()
    peers = []
    try:
        async with Browser(args.chromium, log_path=os.path.join(workdir, "chromium.log")) as browser:
            await scenario(args, server, browser, peers)
            await auth_scenario(token_server, browser)
    finally:
        for peer in peers:
            await peer.close()
        server.kill()
        token_server.kill()


async def auth_scenario(server, browser):
    """A server with a shared token: the page asks for it before the first attempt, says
    when it is wrong, and signs in with the right one."""
    page = await browser.new_page(f"http://127.0.0.1:{server.http_port}/", 1024, 700)
    await page.wait("!document.getElementById('auth-fields').hidden",
                    "the page to find out that the server wants credentials")
    await page.eval("document.getElementById('login-name').value = 'erin';"
                    "document.getElementById('login-token').value = 'guess';"
                    "document.getElementById('login-form').requestSubmit(); true")
    await page.wait("document.getElementById('login-error').textContent.includes('did not accept')",
                    "a wrong token to be refused")
    await page.eval("document.getElementById('login-token').value = 's3cret';"
                    "document.getElementById('login-form').requestSubmit(); true")
    await page.wait("!document.getElementById('app').hidden && document.body.dataset.conn === 'online'",
                    "erin to sign in with the token")
    await join_by_form(page, "vault")
    await say(page, "inside")
    await wait_messages(page, "vault", ["erin: inside"], "erin to chat behind the token")
    await page.eval("document.getElementById('sign-out').click(); true")
    await page.wait("!document.getElementById('login').hidden"
                    " && document.querySelectorAll('#room-list li, .pane[data-room]').length === 0",
                    "signing out to forget the rooms")
    assert not page.exceptions, f"the token page threw: {page.exceptions}"


async def scenario(args, server, browser, peers):
    url = f"http://127.0.0.1:{server.http_port}/"

    # carol, on TCP, leaves three messages before anyone opens the room.
    carol = await TcpPeer().connect(server.tcp_port, "carol")
    peers.append(carol)
    earlier = [f"earlier {n}" for n in (1, 2, 3)]
    for text in earlier:
        assert (await carol.request({"op": "pub", "topic": ROOM, "data": text}))["op"] == "ok"
    log = [f"carol: {t}" for t in earlier]

    alice = await browser.new_page(url, 1280, 800)
    bob = await browser.new_page(url, 390, 844, mobile=True)
    await sign_in(alice, "alice")
    await sign_in(bob, "bob")

    # A name in use (names compare case-insensitively) is refused where it was typed.
    mallory = await browser.new_page(url, 800, 600)
    await mallory.wait("document.getElementById('login-form') !== null", "the sign-in form")
    await mallory.eval("document.getElementById('login-name').value = 'ALICE';"
                       "document.getElementById('login-form').requestSubmit(); true")
    await mallory.wait("document.getElementById('login-error').textContent.includes('already here')",
                       "a taken name to be refused")
    assert await mallory.eval("document.getElementById('app').hidden") is True

    # History on join: the three earlier messages, with times, then the divider.
    await join_by_form(alice, ROOM)
    await wait_messages(alice, ROOM, log, "alice to see the replayed history")
    divider = await alice.eval(
        f"(() => {{ const d = document.querySelector('.pane[data-room={js(ROOM)}] .divider');"
        " return d && d.previousElementSibling.classList.contains('msg') ? d.textContent : null; })()")
    assert divider and "3 earlier messages" in divider, divider
    times = await alice.eval(f"[...document.querySelectorAll('.pane[data-room={js(ROOM)}] .msg time')]"
                             ".map(t => t.textContent && t.dateTime ? 1 : 0).join('')")
    assert times == "111", f"every replayed message shows its time: {times}"

    # bob, on a phone-sized screen, finds the room in the list (topics) and joins it.
    await bob.eval("document.getElementById('open-sidebar').click(); true")
    await bob.wait(f"document.querySelector('#directory li[data-topic={js(ROOM)}]') !== null", "the room list")
    await bob.eval(f"document.querySelector('#directory li[data-topic={js(ROOM)}] button').click(); true")
    await bob.wait(joined_js(ROOM), "bob to join from the room list")
    await wait_messages(bob, ROOM, log, "bob to see the replayed history")
    phone = await bob.eval(
        "(() => { const c = document.getElementById('composer').getBoundingClientRect();"
        " const s = document.getElementById('sidebar').getBoundingClientRect();"
        " return {wide: document.documentElement.scrollWidth <= innerWidth,"
        " composer: c.top >= 0 && c.bottom <= innerHeight && c.width >= innerWidth - 1,"
        " drawerClosed: s.right <= 0}; })()")
    assert phone == {"wide": True, "composer": True, "drawerClosed": True}, f"phone layout: {phone}"

    # Presence, live: alice sees bob arrive; both see carol (TCP) arrive.
    await wait_members(alice, ["alice", "bob"], "alice to see bob in the member list")
    await wait_members(bob, ["alice", "bob"], "bob to see alice in the member list")
    assert (await carol.request({"op": "join", "topic": ROOM}))["op"] == "joined"
    await wait_members(alice, ["alice", "bob", "carol"], "alice to see carol join")
    await wait_members(bob, ["alice", "bob", "carol"], "bob to see carol join")
    assert await alice.eval(
        f"[...document.querySelectorAll('.pane[data-room={js(ROOM)}] .sys.presence')]"
        ".map(e => e.textContent).join('|') === 'bob joined|carol joined'")

    # Messages both ways between the browsers and the TCP client, /me actions included.
    await say_in_room(alice, ROOM, "hello bob", "alice: hello bob", log)
    await say_in_room(bob, ROOM, "/me waves", "* bob waves", log)
    await carol.wait_for(lambda f: f.get("op") == "msg" and f.get("data") == {"me": "waves"},
                         "carol (TCP) to get bob's action as the terminal client sends it")
    assert (await carol.request({"op": "pub", "topic": ROOM, "data": "hi from the terminal"}))["op"] == "ok"
    log.append("carol: hi from the terminal")
    assert (await carol.request({"op": "pub", "topic": ROOM, "data": {"me": "nods"}}))["op"] == "ok"
    log.append("* carol nods")
    for page, who in ((alice, "alice"), (bob, "bob")):
        await wait_messages(page, ROOM, log, f"{who} to see the conversation")
    await carol.wait_for(lambda f: f.get("op") == "msg" and f.get("from") == "alice"
                         and f.get("data") == "hello bob", "carol to get alice's message")

    # Markup is text: shown exactly as typed, nothing parsed, nothing run.
    await say_in_room(bob, ROOM, MARKUP, f"bob: {MARKUP}", log)
    assert (await carol.request({"op": "pub", "topic": ROOM, "data": {"html": "<i>x</i>"}}))["op"] == "ok"
    log.append('carol: {"html":"<i>x</i>"}')
    await wait_messages(alice, ROOM, log, "alice to see the markup as text")
    safe = await alice.eval(
        "({scripts: document.scripts.length, injected: document.querySelectorAll("
        "'#panes script, #panes img, #panes b, #panes i').length,"
        " pwned: typeof window.__pwned})")
    assert safe == {"scripts": 1, "injected": 0, "pwned": "undefined"}, f"markup escaped: {safe}"

    # The server's heartbeat (every second of silence here) is answered with pong.
    await alice.wait_for_frame("in", lambda f: f.get("op") == "ping", "the server to ping alice")
    await alice.wait_for_frame("out", lambda f: f == {"op": "pong"}, "alice's page to answer pong")

    # Unread counts: alice opens a second room, goes back; two messages arrive there.
    await join_by_form(alice, SIDE)
    await open_thread(alice, f"#{ROOM}")
    for n in (1, 2):
        assert (await carol.request({"op": "pub", "topic": SIDE, "data": f"side {n}"}))["op"] == "ok"
    await alice.wait(f"{badge_js('#' + SIDE)} === '2'", "an unread count of 2 on the other room")
    assert await alice.eval(badge_js(f"#{ROOM}")) == "", "the open room has no unread badge"
    await open_thread(alice, f"#{SIDE}")
    await alice.wait(f"{badge_js('#' + SIDE)} === ''", "the badge to clear once the room is open")
    await wait_messages(alice, SIDE, ["carol: side 1", "carol: side 2"], "alice to see the side room")
    await open_thread(alice, f"#{ROOM}")

    # A long history: the first join shows the latest 50; "load earlier messages" pages
    # back (history before) to the first, in order, each once.
    archive = [f"carol: old {n}" for n in range(1, 61)]
    for n in range(1, 61):
        carol.send({"op": "pub", "topic": "archive", "data": f"old {n}", "id": f"a{n}"})
    await carol.wait_for(lambda f: f.get("id") == "a60", "carol's 60 messages to be accepted")
    await join_by_form(alice, "archive")
    await wait_messages(alice, "archive", archive[10:], "the latest 50 messages of the archive")
    await alice.eval("document.querySelector('.pane[data-room=\"archive\"] .older').click(); true")
    await wait_messages(alice, "archive", archive, "every message of the archive after paging back")
    assert await alice.eval("document.querySelector('.pane[data-room=\"archive\"] .older').hidden") is True
    await open_thread(alice, f"#{ROOM}")

    # Direct messages: carol (TCP) tells alice; alice tells bob from the composer.
    assert (await carol.request({"op": "tell", "to": "alice", "data": "psst <u>alice</u>"}))["op"] == "ok"
    await alice.wait(f"{badge_js('@carol')} === '1'", "alice to get carol's direct message, unread")
    await say(alice, "/msg bob see you later")
    await bob.wait(f"{badge_js('@alice')} === '1'", "bob to get alice's direct message, unread")
    await open_thread(bob, "@alice")
    await bob.wait("document.querySelector('.pane[data-dm=\"alice\"] .msg .text').textContent"
                   " === 'see you later'", "bob to read the direct message")
    await open_thread(alice, "@carol")
    assert await alice.eval("document.querySelector('.pane[data-dm=\"carol\"] .msg .text').textContent") == \
        "psst <u>alice</u>"
    await open_thread(alice, f"#{ROOM}")
    await open_thread(bob, f"#{ROOM}")

    # A dropped connection: alice's page reconnects by itself and resumes after the last
    # seq it showed; what bob says meanwhile is shown once.
    connections = await alice.eval("parleyDebug.state().connections")
    before = await alice.eval(f"parleyDebug.state().rooms.find(r => r.topic === {js(ROOM)})")
    assert before["epoch"] and before["lastSeq"] == 9, f"alice's position in the room: {before}"
    await alice.eval("parleyDebug.dropConnection(); true")
    # (Under load the page may be back before a poll sees it away: either is fine.)
    await alice.wait(f"document.body.dataset.conn !== 'online' || parleyDebug.state().connections > {connections}",
                     "alice's page to notice the drop")
    for n in (1, 2):
        await say_in_room(bob, ROOM, f"while you were away {n}", f"bob: while you were away {n}", log)
    await alice.wait(f"parleyDebug.state().connections > {connections} && {joined_js(ROOM)}",
                     "alice's page to reconnect and rejoin")
    await wait_messages(alice, ROOM, log, "alice to have every message exactly once after the drop")
    resume = {"op": "join", "topic": ROOM, "since": before["lastSeq"], "epoch": before["epoch"]}
    assert any({k: v for k, v in json.loads(f).items() if k != "id"} == resume
               for f in alice.frames_out), f"alice's page resumed with {resume}"
    await wait_messages(bob, ROOM, log, "bob's view to match")

    # A server restart on the same ports: both pages reconnect and resume; the replay in
    # the new run (new epoch) is shown once, nothing before the restart twice.
    await say_in_room(alice, ROOM, "before the restart", "alice: before the restart", log)
    await wait_messages(bob, ROOM, log, "bob to see the last message before the restart")
    await server.stop()
    for page, who in ((alice, "alice"), (bob, "bob")):
        await page.wait("document.body.dataset.conn !== 'online'", f"{who}'s page to lose the server")
    await server.start()
    carol2 = await TcpPeer().connect(server.tcp_port, "carol")
    peers.append(carol2)
    assert (await carol2.request({"op": "join", "topic": ROOM}))["op"] == "joined"
    assert (await carol2.request({"op": "pub", "topic": ROOM, "data": "after the restart"}))["op"] == "ok"
    log.append("carol: after the restart")
    for page, who in ((alice, "alice"), (bob, "bob")):
        await page.wait(f"document.body.dataset.conn === 'online' && {joined_js(ROOM)}",
                        f"{who}'s page to reconnect after the restart", timeout=30)
    await say_in_room(bob, ROOM, "we are back", "bob: we are back", log)
    for page, who in ((alice, "alice"), (bob, "bob")):
        await wait_messages(page, ROOM, log, f"{who} to have every message exactly once after the restart")
    await wait_members(alice, ["alice", "bob", "carol"], "alice to see everyone back")
    await carol2.wait_for(lambda f: f.get("op") == "msg" and f.get("data") == "we are back",
                          "carol to get bob's message after the restart")

    os.makedirs(args.out, exist_ok=True)
    await alice.screenshot(os.path.join(args.out, "web-chat.png"))
    await bob.screenshot(os.path.join(args.out, "web-chat-phone.png"))

    for page, who in ((alice, "alice"), (bob, "bob")):
        assert not page.exceptions, f"{who}'s page threw: {page.exceptions}"
    print(f"web_chat_test: passed ({len(log)} messages in #{ROOM}, shown once each in both browsers; "
          f"screenshots in {args.out})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--chromium", default="chromium")
    args = parser.parse_args()
    if not shutil.which(args.chromium):
        print("web_chat_test: skipped, no chromium", file=sys.stderr)
        return 77
    workdir = tempfile.mkdtemp(prefix="parley-web-test-")
    try:
        asyncio.run(asyncio.wait_for(run(args, workdir), 240))
    except BaseException as error:  # report everything, including a timeout
        traceback.print_exc()
        print(f"web_chat_test: FAILED: {error!r}", file=sys.stderr)
        for name in sorted(os.listdir(workdir)):
            if name.startswith("server"):
                with open(os.path.join(workdir, name), errors="replace") as f:
                    print(f"--- {name}\n{f.read()[-6000:]}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
