"""HTTPS and wss: with --tls-cert/--tls-key the HTTP listener speaks TLS only. curl
--cacert for /healthz and /metrics, python's websockets over wss trusting the test CA,
chat between a wss client and a TLS line client in one room, plain HTTP refused, the
handshake deadline, client certificates, and a SIGHUP reload reaching the HTTP listener."""
import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parley_http import DEADLINE, Server, recv_until  # noqa: E402

CERTS_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration",
                            "support", "make-test-certs.sh")
HANDSHAKE_TIMEOUT_MS = 500


def make_certs():
    directory = tempfile.mkdtemp(prefix="parley-https-")
    subprocess.run(["sh", CERTS_SCRIPT, directory], check=True)
    return directory


def client_context(certs, cert=None):
    context = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    if cert:
        context.load_cert_chain(os.path.join(certs, cert + ".pem"), os.path.join(certs, cert + ".key"))
    return context


def curl(certs, url, *args):
    """(exit code, status, body) of one curl call trusting the test CA."""
    done = subprocess.run(["curl", "-sS", "--max-time", str(DEADLINE), "--cacert",
                           os.path.join(certs, "ca.pem"), "-w", "\n%{http_code}", *args, url],
                          capture_output=True, text=True, timeout=DEADLINE * 2)
    body, _, code = done.stdout.rpartition("\n")
    return done.returncode, int(code or 0), body


class TlsLineClient:
    """A protocol client over TLS on the protocol port."""

    def __init__(self, port, context):
        raw = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.buffer = b""

    def send(self, obj):
        self.sock.sendall((json.dumps(obj) + "\n").encode())

    def recv_until(self, predicate):
        end = time.monotonic() + DEADLINE
        while True:
            while b"\n" not in self.buffer:
                self.sock.settimeout(max(0.01, end - time.monotonic()))
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise AssertionError("connection closed")
                self.buffer += chunk
            line, _, self.buffer = self.buffer.partition(b"\n")
            frame = json.loads(line)
            if predicate(frame):
                return frame

    def close(self):
        self.sock.close()


async def recv_op(ws, op):
    while True:
        message = json.loads(await ws.recv())
        if message["op"] == op:
            return message


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, DEADLINE * 3))


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = make_certs()
        cls.server = Server("--tls-cert", os.path.join(cls.certs, "server.pem"),
                            "--tls-key", os.path.join(cls.certs, "server.key"),
                            "--tls-handshake-timeout", f"{HANDSHAKE_TIMEOUT_MS}ms",
                            "--max-connections-per-ip", "0")
        cls.base = f"https://127.0.0.1:{cls.server.http_port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def test_https_healthz_metrics_and_page(self):
        code, status, body = curl(self.certs, self.base + "/healthz")
        self.assertEqual((code, status, body), (0, 200, "ok\n"))
        code, status, body = curl(self.certs, self.base + "/metrics")
        self.assertEqual((code, status), (0, 200))
        self.assertIn("parley_connections", body)
        code, status, body = curl(self.certs, self.base + "/")
        self.assertEqual((code, status), (0, 200))
        self.assertIn("<html", body.lower())

    def test_keep_alive_over_tls(self):
        done = subprocess.run(["curl", "-sS", "-v", "--max-time", str(DEADLINE), "--cacert",
                               os.path.join(self.certs, "ca.pem"), self.base + "/healthz",
                               self.base + "/healthz"], capture_output=True, text=True,
                              timeout=DEADLINE * 2)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "ok\nok\n")
        self.assertIn("Re-using existing connection", done.stderr)

    def test_untrusted_certificate_is_refused_by_curl(self):
        # Without the test CA the client must not accept the server: really TLS, checked.
        done = subprocess.run(["curl", "-sS", "--max-time", str(DEADLINE),
                               self.base + "/healthz"], capture_output=True, text=True,
                              timeout=DEADLINE * 2)
        self.assertNotEqual(done.returncode, 0)

    def test_plain_http_is_refused(self):
        sock = socket.create_connection(("127.0.0.1", self.server.http_port), timeout=DEADLINE)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = recv_until(sock, lambda b: False)  # until the server closes
        sock.close()
        self.assertNotIn(b"HTTP/1.1 200", data)
        self.assertNotIn(b"ok\n", data)
        code, status, _ = curl(self.certs, f"http://127.0.0.1:{self.server.http_port}/healthz")
        self.assertNotEqual(code, 0)
        self.assertEqual(status, 0)

    def test_silent_client_is_closed_at_the_handshake_deadline(self):
        sock = socket.create_connection(("127.0.0.1", self.server.http_port), timeout=DEADLINE)
        started = time.monotonic()
        data = recv_until(sock, lambda b: False)  # nothing sent: wait for the close
        elapsed = time.monotonic() - started
        sock.close()
        self.assertEqual(data, b"")
        self.assertGreater(elapsed, HANDSHAKE_TIMEOUT_MS / 1000 * 0.8)
        self.assertLess(elapsed, HANDSHAKE_TIMEOUT_MS / 1000 + 3.0)

    def test_wss_chat_with_a_tls_line_client(self):
        async def scenario():
            origin = f"https://127.0.0.1:{self.server.http_port}"
            url = f"wss://127.0.0.1:{self.server.http_port}/ws"
            async with websockets.connect(url, ssl=client_context(self.certs),
                                          subprotocols=["parley.v1"], origin=origin) as ws:
                await ws.send(json.dumps({"op": "hello", "name": "secureweb"}))
                self.assertEqual((await recv_op(ws, "welcome"))["name"], "secureweb")
                await ws.send(json.dumps({"op": "join", "topic": "vault"}))
                await recv_op(ws, "joined")

                tls = TlsLineClient(self.server.port, client_context(self.certs))
                tls.send({"op": "hello", "name": "secureline"})
                tls.recv_until(lambda f: f["op"] == "welcome")
                tls.send({"op": "join", "topic": "vault"})
                tls.recv_until(lambda f: f["op"] == "joined")

                tls.send({"op": "pub", "topic": "vault", "data": "from tls"})
                msg = await recv_op(ws, "msg")
                self.assertEqual((msg["from"], msg["data"]), ("secureline", "from tls"))

                # Large enough to span several TLS records both ways.
                big = "w" * 40000
                await ws.send(json.dumps({"op": "pub", "topic": "vault", "data": big}))
                got = tls.recv_until(lambda f: f["op"] == "msg" and f["from"] == "secureweb")
                self.assertEqual(got["data"], big)

                code, status, body = curl(self.certs, self.base + "/metrics")
                self.assertEqual((code, status), (0, 200))
                self.assertIn('parley_connections{transport="wss"} 1', body)
                self.assertIn('parley_connections{transport="tls"} 1', body)
                tls.close()
        run(scenario())


class HttpsClientCertificateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = make_certs()
        cls.server = Server("--tls-cert", os.path.join(cls.certs, "server.pem"),
                            "--tls-key", os.path.join(cls.certs, "server.key"),
                            "--tls-client-ca", os.path.join(cls.certs, "ca.pem"))
        cls.base = f"https://127.0.0.1:{cls.server.http_port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def test_client_certificate_required_on_http_listener(self):
        code, status, _ = curl(self.certs, self.base + "/healthz")
        self.assertNotEqual(code, 0)
        code, status, body = curl(self.certs, self.base + "/healthz",
                                  "--cert", os.path.join(self.certs, "client.pem"),
                                  "--key", os.path.join(self.certs, "client.key"))
        self.assertEqual((code, status, body), (0, 200, "ok\n"))

    def test_wss_with_client_certificate(self):
        async def scenario():
            url = f"wss://127.0.0.1:{self.server.http_port}/ws"
            origin = f"https://127.0.0.1:{self.server.http_port}"
            async with websockets.connect(url, ssl=client_context(self.certs, "client"),
                                          origin=origin) as ws:
                await ws.send(json.dumps({"op": "hello", "name": "carded"}))
                await recv_op(ws, "welcome")
        run(scenario())


class HttpsReloadTest(unittest.TestCase):
    def test_sighup_swaps_the_certificate_for_new_https_handshakes(self):
        certs = make_certs()
        live = tempfile.mkdtemp(prefix="parley-https-live-")
        try:
            for name in ("pem", "key"):
                shutil.copy(os.path.join(certs, f"server.{name}"), os.path.join(live, f"s.{name}"))
            with Server("--tls-cert", os.path.join(live, "s.pem"),
                        "--tls-key", os.path.join(live, "s.key")) as server:
                port = server.http_port

                def serial():
                    context = client_context(certs)
                    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as raw:
                        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                            return tls.getpeercert()["serialNumber"]

                self.assertEqual(serial(), "1001")
                for name in ("pem", "key"):
                    shutil.copy(os.path.join(certs, f"server2.{name}"),
                                os.path.join(live, f"s.{name}"))
                server.proc.send_signal(signal.SIGHUP)
                server.wait_log(r"TLS reloaded")
                self.assertEqual(serial(), "1002")
        finally:
            shutil.rmtree(certs, ignore_errors=True)
            shutil.rmtree(live, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
