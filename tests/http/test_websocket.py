"""WebSocket at /ws with an outside client (Debian's python3-websockets) and raw frames:
the same protocol as TCP, one frame per message, the close codes of RFC 6455."""
import asyncio
import json
import os
import socket
import struct
import sys
import unittest

import websockets
import websockets.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parley_http import (DEADLINE, LineClient, RawWs, Server, frame, handshake_request,  # noqa: E402
                         http_status, recv_until)

MAX_FRAME = 1024


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, DEADLINE * 3))


async def recv_op(ws, op):
    """The next frame with this op, skipping others (pings, presence of others)."""
    while True:
        text = await ws.recv()
        assert isinstance(text, str), "server messages are text"
        assert not text.endswith("\n"), "a server message carries no line end"
        message = json.loads(text)
        if message["op"] == op:
            return message


class WebSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--max-frame", str(MAX_FRAME), "--max-connections-per-ip", "0")
        cls.ws_url = f"ws://127.0.0.1:{cls.server.http_port}/ws"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_chat_between_websocket_and_tcp_in_one_room(self):
        async def scenario():
            origin = f"http://127.0.0.1:{self.server.http_port}"
            async with websockets.connect(self.ws_url, subprotocols=["parley.v1"],
                                          origin=origin) as ws:
                self.assertEqual(ws.subprotocol, "parley.v1")
                await ws.send(json.dumps({"op": "hello", "name": "webby"}))
                welcome = await recv_op(ws, "welcome")
                self.assertEqual(welcome["name"], "webby")
                await ws.send(json.dumps({"op": "join", "topic": "lobby"}) + "\n")
                joined = await recv_op(ws, "joined")
                self.assertEqual(joined["members"], ["webby"])

                tcp = LineClient(self.server.port)
                tcp.send({"op": "hello", "name": "tcpy"})
                tcp.recv_until(lambda f: f["op"] == "welcome")
                tcp.send({"op": "join", "topic": "lobby"})
                joined = tcp.recv_until(lambda f: f["op"] == "joined")
                self.assertEqual(joined["members"], ["tcpy", "webby"])
                presence = await recv_op(ws, "presence")
                self.assertEqual((presence["name"], presence["state"]), ("tcpy", "join"))

                tcp.send({"op": "pub", "topic": "lobby", "data": "hi from tcp"})
                msg = await recv_op(ws, "msg")
                self.assertEqual((msg["from"], msg["data"]), ("tcpy", "hi from tcp"))

                await ws.send(json.dumps({"op": "pub", "topic": "lobby", "data": "hi from web"})
                              + "\r\n")
                msg = tcp.recv_until(lambda f: f["op"] == "msg" and f["from"] == "webby")
                self.assertEqual(msg["data"], "hi from web")

                # A reply with an id, and a WebSocket ping that is not protocol activity.
                pong_waiter = await ws.ping(b"x")
                await asyncio.wait_for(pong_waiter, DEADLINE)
                await ws.send(json.dumps({"op": "who", "topic": "lobby", "id": 7}))
                who = await recv_op(ws, "who")
                self.assertEqual((who["id"], who["members"]), (7, ["tcpy", "webby"]))
                tcp.close()
                presence = await recv_op(ws, "presence")
                self.assertEqual((presence["name"], presence["state"]), ("tcpy", "leave"))

                await ws.send(json.dumps({"op": "quit"}))
                bye = await recv_op(ws, "bye")
                self.assertEqual(bye["reason"], "quit")
                await ws.wait_closed()
                self.assertEqual(ws.close_code, 1000)
        run(scenario())

    def test_two_lines_in_one_message_is_bad_json(self):
        ws = RawWs(self.server.http_port)
        self.assertEqual(ws.status, 101)
        ws.text('{"op":"ping","id":1}\n{"op":"ping","id":2}')
        error = ws.recv_json()
        self.assertEqual((error["op"], error["code"]), ("error", "bad_json"))
        # The connection stays usable, and one trailing line end is allowed.
        ws.text('{"op":"ping","id":3}\r\n')
        self.assertEqual(ws.recv_json(), {"op": "pong", "id": 3})
        ws.close()

    def test_oversized_message_gets_frame_too_large_then_1009(self):
        ws = RawWs(self.server.http_port)
        ws.text('{"op":"ping","id":1}')
        self.assertEqual(ws.recv_json()["op"], "pong")
        # Exactly max_frame is allowed (with a trailing line end beyond it).
        prefix = '{"op":"ping","id":2,"pad":"'
        body = prefix + "a" * (MAX_FRAME - len(prefix) - 2) + '"}'
        self.assertEqual(len(body), MAX_FRAME)
        ws.text(body + "\n")
        self.assertEqual(ws.recv_json()["id"], 2)
        ws.text(body + " ")
        error = ws.recv_json()
        self.assertEqual((error["op"], error["code"]), ("error", "frame_too_large"))
        self.assertEqual(ws.recv_json(), {"op": "bye", "reason": "frame_too_large"})
        self.assertEqual(ws.recv_close(), 1009)
        ws.close()

    def test_announced_oversize_is_refused_before_the_payload(self):
        ws = RawWs(self.server.http_port)
        # A header announcing 1 MiB: refused at once, without waiting for the payload.
        ws.send(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 1 << 20) + b"\0\0\0\0")
        self.assertEqual(ws.recv_json()["code"], "frame_too_large")
        self.assertEqual(ws.recv_close(), 1009)
        ws.close()

    def test_unmasked_client_frame_is_1002(self):
        ws = RawWs(self.server.http_port)
        ws.send(frame(0x1, b'{"op":"ping"}', mask=False))
        self.assertEqual(ws.recv_close(), 1002)
        ws.close()

    def test_binary_message_is_1003(self):
        ws = RawWs(self.server.http_port)
        ws.send(frame(0x2, b'{"op":"ping"}'))
        self.assertEqual(ws.recv_close(), 1003)
        ws.close()

    def test_invalid_utf8_is_1007(self):
        ws = RawWs(self.server.http_port)
        ws.send(frame(0x1, b'{"op":"ping","x":"\xff"}'))
        self.assertEqual(ws.recv_close(), 1007)
        ws.close()

    def test_fragments_with_interleaved_pings(self):
        ws = RawWs(self.server.http_port)
        message = b'{"op":"ping","id":"frag"}'
        ws.send(frame(0x1, message[:5], fin=False))
        ws.send(frame(0x9, b"p1"))
        ws.send(frame(0x0, message[5:12], fin=False))
        ws.send(frame(0x9, b"p2") + frame(0xA, b"unsolicited"))
        ws.send(frame(0x0, message[12:], fin=True))
        got = [ws.recv_frame() for _ in range(3)]
        self.assertEqual(got[0], (0xA, True, b"p1"))
        self.assertEqual(got[1], (0xA, True, b"p2"))
        self.assertEqual((got[2][0], json.loads(got[2][2])), (0x1, {"op": "pong", "id": "frag"}))
        ws.close()

    def test_fragmented_message_over_the_limit_is_1009(self):
        ws = RawWs(self.server.http_port)
        ws.send(frame(0x1, b"a" * 700, fin=False))
        ws.send(frame(0x0, b"a" * 700, fin=True))
        self.assertEqual(ws.recv_json()["code"], "frame_too_large")
        self.assertEqual(ws.recv_close(), 1009)
        ws.close()

    def test_close_in_the_middle_of_a_fragmented_message(self):
        ws = RawWs(self.server.http_port)
        ws.text('{"op":"hello","name":"closer"}')
        self.assertEqual(ws.recv_json()["op"], "welcome")
        ws.send(frame(0x1, b'{"op":"pi', fin=False))
        ws.send(frame(0x8, struct.pack("!H", 1000) + b"bye now"))
        self.assertEqual(ws.recv_close(), 1000)  # the echo of the client's code
        ws.wait_eof()
        ws.close()

    def test_continuation_without_a_message_is_1002(self):
        ws = RawWs(self.server.http_port)
        ws.send(frame(0x0, b"stray"))
        self.assertEqual(ws.recv_close(), 1002)
        ws.close()

    def test_first_frames_in_the_upgrade_packet(self):
        # The handshake and the first message in one write: nothing is lost.
        sock = socket.create_connection(("127.0.0.1", self.server.http_port), timeout=DEADLINE)
        sock.sendall(handshake_request(self.server.http_port)
                     + frame(0x1, b'{"op":"ping","id":"early"}'))
        data = recv_until(sock, lambda b: b"early" in b)
        self.assertEqual(http_status(data), 101)
        sock.close()


class HandshakeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--http-allow-origin", "https://chat.example.org")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def status(self, **handshake):
        ws = RawWs(self.server.http_port, **handshake)
        ws.close()
        return ws.status, ws.head

    def test_missing_key_is_400(self):
        self.assertEqual(self.status(key="")[0], 400)

    def test_version_12_is_426(self):
        status, head = self.status(version="12")
        self.assertEqual(status, 426)
        self.assertIn(b"Sec-WebSocket-Version: 13", head)

    def test_refused_origin_is_403(self):
        self.assertEqual(self.status(origin="https://evil.example")[0], 403)

    def test_allowed_origin_upgrades(self):
        self.assertEqual(self.status(origin="https://chat.example.org")[0], 101)

    def test_library_sees_the_refusal(self):
        async def attempt():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
                async with websockets.connect(f"ws://127.0.0.1:{self.server.http_port}/ws",
                                              origin="http://127.0.0.1:1"):
                    pass
            self.assertEqual(caught.exception.status_code, 403)
        run(attempt())


class DefaultOriginTest(unittest.TestCase):
    def test_default_allows_only_the_listeners_own_origin(self):
        with Server() as server:
            own = f"http://127.0.0.1:{server.http_port}"
            self.assertEqual(RawWs(server.http_port, origin=own).status, 101)
            local = f"http://localhost:{server.http_port}"
            self.assertEqual(RawWs(server.http_port, origin=local).status, 101)
            self.assertEqual(RawWs(server.http_port, origin="http://127.0.0.1:9").status, 403)
            self.assertEqual(RawWs(server.http_port, origin="null").status, 403)


if __name__ == "__main__":
    unittest.main(verbosity=2)
