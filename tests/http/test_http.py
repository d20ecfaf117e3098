"""The HTTP side with outside clients: curl for /healthz, /metrics, /, 404, 405, HEAD and
keep-alive; promtool checks the metrics text; raw sockets for a huge head (431) and a
client sending its head byte by byte past the header timeout."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parley_http import DEADLINE, LineClient, RawWs, Server, http_status, recv_until  # noqa: E402


def curl(*args):
    """(status, headers, body) of one curl call."""
    done = subprocess.run(["curl", "-sS", "--max-time", str(DEADLINE), "-D", "-", *args],
                          capture_output=True, check=True)
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    return http_status(head), head.decode(), body


def raw_request(port, request, timeout=DEADLINE):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return recv_until(sock, lambda b: False, timeout)


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--http-header-timeout", "500ms")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_healthz(self):
        status, head, body = curl(self.server.url("/healthz"))
        self.assertEqual((status, body), (200, b"ok\n"))
        self.assertIn("Content-Length: 3", head)

    def test_page_at_root(self):
        status, head, body = curl(self.server.url("/"))
        self.assertEqual(status, 200)
        self.assertIn("text/html", head)
        self.assertIn(b"<html", body)

    def test_unknown_path_404_and_wrong_method_405(self):
        self.assertEqual(curl(self.server.url("/nope"))[0], 404)
        status, head, _ = curl("-X", "POST", "--data", "x=1", self.server.url("/healthz"))
        self.assertEqual(status, 405)
        self.assertIn("Allow: GET, HEAD", head)
        self.assertEqual(curl("-X", "DELETE", self.server.url("/metrics"))[0], 405)

    def test_head_has_the_length_and_no_body(self):
        data = raw_request(self.server.http_port,
                           b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertEqual((http_status(head), body), (200, b""))
        self.assertIn(b"Content-Length: 3", head)
        self.assertEqual(subprocess.run(["curl", "-sS", "-I", "--max-time", str(DEADLINE),
                                         self.server.url("/metrics")], capture_output=True,
                                        check=True).stdout.split(b" ")[1], b"200")

    def test_keep_alive_serves_requests_on_one_connection(self):
        done = subprocess.run(["curl", "-sS", "-v", "--max-time", str(DEADLINE),
                               self.server.url("/healthz"), self.server.url("/nope"),
                               self.server.url("/healthz")], capture_output=True, check=True)
        self.assertEqual(done.stdout, b"ok\nno such page\nok\n")
        self.assertEqual(done.stderr.count(b"Connected to"), 1, done.stderr.decode())
        self.assertGreaterEqual(done.stderr.count(b"Re-using existing connection"), 2)

    def test_pipelined_requests_are_answered_in_order(self):
        request = (f"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                   f"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                   f"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
        data = raw_request(self.server.http_port, request)
        self.assertEqual(re.findall(rb"HTTP/1.1 (\d+)", data), [b"200", b"200", b"404"])

    def test_huge_head_is_431(self):
        request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
        self.assertEqual(http_status(raw_request(self.server.http_port, request)), 431)
        status, _, _ = curl("-H", "X-Big: " + "b" * 9000, self.server.url("/"))
        self.assertEqual(status, 431)

    def test_malformed_head_is_400(self):
        data = raw_request(self.server.http_port, b"GET /\r\n\r\n")
        self.assertEqual(http_status(data), 400)

    def test_slow_client_is_closed_at_the_header_timeout(self):
        # Byte by byte, each well inside the timeout: the head as a whole is not.
        sock = socket.create_connection(("127.0.0.1", self.server.http_port), timeout=DEADLINE)
        started = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 200:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.02)  # pacing the sender, not waiting for the server
            ready = socket.socket.recv(sock, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT) \
                if self._readable(sock) else None
            if ready == b"":
                closed = True
                break
        self.assertTrue(closed, "the server kept a trickling client past its header timeout")
        elapsed = time.monotonic() - started
        self.assertGreater(elapsed, 0.4)
        self.assertLess(elapsed, 3.0)
        sock.close()

    @staticmethod
    def _readable(sock):
        import select
        return bool(select.select([sock], [], [], 0)[0])

    def test_metrics_pass_promtool_and_count(self):
        client = LineClient(self.server.port)
        client.send({"op": "hello", "name": "counted"})
        client.recv_until(lambda f: f["op"] == "welcome")
        client.send({"op": "sub", "topic": "m.>", "id": 1})
        client.recv_until(lambda f: f["op"] == "ok")
        client.send({"op": "pub", "topic": "m.x", "data": 1})
        client.recv_until(lambda f: f["op"] == "msg")
        client.send({"op": "bogus"})
        client.recv_until(lambda f: f["op"] == "error")
        ws = RawWs(self.server.http_port)
        ws.text('{"op":"ping","id":1}')
        ws.recv_json()

        status, head, body = curl(self.server.url("/metrics"))
        self.assertEqual(status, 200)
        self.assertIn("text/plain; version=0.0.4", head)
        text = body.decode()
        metrics = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                metrics[name] = float(value)
        self.assertEqual(metrics['parley_connections{transport="tcp"}'], 1)
        self.assertEqual(metrics['parley_connections{transport="websocket"}'], 1)
        self.assertGreaterEqual(metrics['parley_requests_total{op="pub"}'], 1)
        self.assertGreaterEqual(metrics['parley_requests_total{op="ping"}'], 1)
        self.assertGreaterEqual(metrics['parley_errors_total{code="unknown_op"}'], 1)
        self.assertGreaterEqual(metrics["parley_messages_received_total"], 1)
        self.assertGreaterEqual(metrics["parley_deliveries_total"], 1)
        self.assertGreaterEqual(metrics["parley_subscriptions"], 1)
        self.assertGreater(metrics["parley_event_loop_lag_seconds_count"], 0)
        self.assertEqual(metrics['parley_event_loop_lag_seconds_bucket{le="+Inf"}'],
                         metrics["parley_event_loop_lag_seconds_count"])
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian prometheus) is needed")
        checked = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        client.close()
        ws.close()


class DrainTest(unittest.TestCase):
    def test_healthz_is_503_while_draining(self):
        with tempfile.TemporaryDirectory():
            server = Server("--drain-timeout", "10s")
            try:
                self.assertEqual(curl(server.url("/healthz"))[0], 200)
                # A client that keeps its side open holds the drain (the session lingers).
                client = LineClient(server.port)
                client.send({"op": "hello", "name": "holder"})
                client.recv_until(lambda f: f["op"] == "welcome")
                server.proc.send_signal(signal.SIGTERM)
                client.recv_until(lambda f: f["op"] == "bye")
                status, _, body = curl(server.url("/healthz"))
                self.assertEqual((status, body), (503, b"draining\n"))
                ws = RawWs(server.http_port)
                self.assertEqual(ws.status, 503)
                ws.close()
                client.close()
            finally:
                self.assertEqual(server.stop(), 0)


class ListenTest(unittest.TestCase):
    def test_off_disables_the_listener(self):
        proc = subprocess.Popen([os.environ["PARLEY_SERVER_BINARY"], "--listen", "127.0.0.1:0",
                                 "--http-listen", "off"], stderr=subprocess.PIPE)
        try:
            line = proc.stderr.readline().decode()
            while "listening on" not in line:
                line = proc.stderr.readline().decode()
                self.assertTrue(line, "no listening line")
        finally:
            proc.send_signal(signal.SIGTERM)
            rest = proc.communicate(timeout=DEADLINE)[1].decode()
        self.assertNotIn("HTTP on", rest)
        self.assertEqual(proc.returncode, 0)

    def test_bad_values_are_refused(self):
        for args in (["--http-listen", "nowhere"], ["--http-allow-origin", "chat.example.org"],
                     ["--http-header-timeout", "0"]):
            done = subprocess.run([os.environ["PARLEY_SERVER_BINARY"], *args],
                                  capture_output=True, timeout=DEADLINE)
            self.assertEqual(done.returncode, 2, args)
            self.assertIn(args[0], done.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
