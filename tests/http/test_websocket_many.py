"""1000 WebSocket sessions at once: all upgrade, all subscribe, one message reaches every
one of them, and /metrics counts them by transport."""
import asyncio
import json
import os
import resource
import sys
import unittest
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parley_http import DEADLINE, LineClient, Server  # noqa: E402

CONNECTIONS = 1000


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise unittest.SkipTest(f"open-file limit {hard} is below {needed}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def recv_op(ws, op):
    while True:
        message = json.loads(await ws.recv())
        if message["op"] == op:
            return message


class ManyTest(unittest.TestCase):
    def test_thousand_websocket_sessions(self):
        raise_fd_limit(CONNECTIONS + 200)
        with Server("--max-connections-per-ip", "0") as server:
            url = f"ws://127.0.0.1:{server.http_port}/ws"

            async def scenario():
                opening = asyncio.Semaphore(100)  # handshakes in flight, not sessions open

                async def open_one(i):
                    async with opening:
                        ws = await websockets.connect(url, subprotocols=["parley.v1"],
                                                      open_timeout=DEADLINE * 3)
                        await ws.send(json.dumps({"op": "sub", "topic": "many.t", "id": i}))
                        ok = await recv_op(ws, "ok")
                        assert ok["id"] == i
                        return ws

                sockets = await asyncio.gather(*(open_one(i) for i in range(CONNECTIONS)))
                with urllib.request.urlopen(server.url("/metrics"), timeout=DEADLINE) as reply:
                    text = reply.read().decode()
                self.assertIn(f'parley_connections{{transport="websocket"}} {CONNECTIONS}\n', text)

                publisher = LineClient(server.port)
                publisher.send({"op": "pub", "topic": "many.t", "data": "to all", "id": "p"})
                publisher.recv_until(lambda f: f["op"] == "ok")
                got = await asyncio.gather(*(recv_op(ws, "msg") for ws in sockets))
                self.assertEqual({m["data"] for m in got}, {"to all"})
                self.assertEqual(len(got), CONNECTIONS)
                publisher.close()
                await asyncio.gather(*(ws.close() for ws in sockets))

            asyncio.run(asyncio.wait_for(scenario(), 120))


if __name__ == "__main__":
    unittest.main(verbosity=2)
