#!/usr/bin/python3
"""Makes the screenshots in docs/images (web-chat.png, web-chat-phone.png): a short,
realistic conversation on a fresh parley-server, photographed in headless Chromium.
Not a test (web_chat_test.py is); run it by hand when the page's look changes:

    tests/web/screenshots.py build/dev/server/parley-server docs/images
"""

import asyncio
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402
from web_chat_test import Server, TcpPeer, badge_js, join_by_form, say, sign_in  # noqa: E402


async def main(server_binary, out):
    workdir = tempfile.mkdtemp(prefix="parley-screenshots-")
    server = Server(server_binary, workdir, [])
    await server.start()
    try:
        carol = await TcpPeer().connect(server.tcp_port, "carol")
        for data in ["morning all", "0.4 is out: WebSocket transport, /metrics and the web page",
                     {"me": "grabs a coffee"}]:
            await carol.request({"op": "pub", "topic": "general", "data": data})
        await carol.request({"op": "pub", "topic": "random", "data": "anyone up for lunch?"})
        async with Browser() as browser:
            url = f"http://127.0.0.1:{server.http_port}/"
            alice = await browser.new_page(url, 1200, 720)
            bob = await browser.new_page(url, 1200, 720)
            await sign_in(alice, "alice")
            await sign_in(bob, "bob")
            for room in ("ops", "random", "general"):
                await join_by_form(alice, room)
            await join_by_form(bob, "general")
            await carol.request({"op": "join", "topic": "general"})
            lines = [(bob, "hi alice, is the web page live?"),
                     (alice, "yes, open http://127.0.0.1:7880/ and pick a room"),
                     (bob, "/me tries it on his phone"),
                     (carol, "it resumes after a restart too: no duplicates"),
                     (alice, "<b>markup</b> stays text, by the way")]
            for n, (who, text) in enumerate(lines, start=4):
                if who is carol:
                    await carol.request({"op": "pub", "topic": "general", "data": text})
                else:
                    await say(who, text)
                await alice.wait(f"document.querySelectorAll('.pane[data-room=\"general\"] .msg').length === {n}",
                                 f"message {n}")
            for data in ["disk at 81% on db-2", "rotated logs, 64% now"]:
                await carol.request({"op": "pub", "topic": "ops", "data": data})
            await carol.request({"op": "tell", "to": "alice", "data": "can you review my PR later?"})
            await alice.wait(f"{badge_js('@carol')} === '1' && {badge_js('#ops')} === '2'", "the unread counts")
            await alice.eval("document.getElementById('message').blur(); true")
            await alice.screenshot(os.path.join(out, "web-chat.png"))
            phone = await browser.new_page(url, 390, 760, mobile=True)
            await sign_in(phone, "dave")
            await join_by_form(phone, "general")
            await phone.eval("document.getElementById('message').blur(); true")
            await phone.screenshot(os.path.join(out, "web-chat-phone.png"))
        await carol.close()
    finally:
        server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
