"""Shared helpers for the HTTP and WebSocket tests: start the real parley-server on
ephemeral loopback ports, speak the line protocol over TCP, and speak WebSocket by hand
(for the frames a library refuses to send). Everything waits on events with deadlines,
never on sleeps that guess."""
import base64
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time

SERVER = os.environ.get("PARLEY_SERVER_BINARY", "")
DEADLINE = 10.0


class Server:
    """parley-server on 127.0.0.1 with both listeners on port 0; its log is collected."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(
            [SERVER, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        self.log = ""
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        tcp = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)")
        http = self.wait_log(r"HTTP on 127\.0\.0\.1:(\d+)")
        self.port = int(tcp.group(1))
        self.http_port = int(http.group(1))

    def _read_log(self):
        for raw in self.proc.stderr:
            with self._cond:
                self.log += raw.decode("utf-8", "replace")
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_log(self, pattern, timeout=DEADLINE):
        regex = re.compile(pattern)
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                match = regex.search(self.log)
                if match:
                    return match
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no log line /{pattern}/; log:\n{self.log}")
                self._cond.wait(min(left, 0.2))

    def url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=DEADLINE)
        self.proc.stderr.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def recv_until(sock, predicate, timeout=DEADLINE):
    """Reads until predicate(buffer) is true or the peer closes; returns the buffer."""
    data = b""
    end = time.monotonic() + timeout
    while not predicate(data):
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out; got {data[:300]!r}")
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class LineClient:
    """A protocol client over plain TCP."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.buffer = b""

    def send(self, obj):
        self.sock.sendall((json.dumps(obj) + "\n").encode())

    def recv(self, timeout=DEADLINE):
        end = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no frame in time; buffered {self.buffer[:200]!r}")
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise AssertionError("connection closed")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def recv_until(self, predicate, timeout=DEADLINE):
        end = time.monotonic() + timeout
        while True:
            frame = self.recv(max(0.01, end - time.monotonic()))
            if predicate(frame):
                return frame

    def close(self):
        self.sock.close()


def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def handshake_request(port, path="/ws", key=None, version="13", origin=None, extra=""):
    key = ws_key() if key is None else key
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Version: {version}"]
    if key:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if origin:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def http_status(response):
    return int(response.split(b" ", 2)[1])


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
    """One client frame: masked unless told otherwise."""
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    size = len(payload)
    bit = 0x80 if mask else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


class RawWs:
    """A WebSocket client on a bare socket: sends any frame, reads server frames."""

    def __init__(self, port, **handshake):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.sock.sendall(handshake_request(port, **handshake))
        data = recv_until(self.sock, lambda b: b"\r\n\r\n" in b)
        head, _, self.buffer = data.partition(b"\r\n\r\n")
        self.head = head
        self.status = http_status(head)

    def send(self, data):
        self.sock.sendall(data)

    def text(self, payload):
        self.send(frame(0x1, payload.encode() if isinstance(payload, str) else payload))

    def _parse(self):
        b = self.buffer
        if len(b) < 2:
            return None
        opcode, size, at = b[0] & 0x0F, b[1] & 0x7F, 2
        assert not b[1] & 0x80, "server frames are never masked"
        if size == 126:
            if len(b) < 4:
                return None
            size, at = struct.unpack("!H", b[2:4])[0], 4
        elif size == 127:
            if len(b) < 10:
                return None
            size, at = struct.unpack("!Q", b[2:10])[0], 10
        if len(b) < at + size:
            return None
        self.buffer = b[at + size:]
        return opcode, bool(b[0] & 0x80), b[at:at + size]

    def recv_frame(self, timeout=DEADLINE):
        """(opcode, fin, payload), or None when the server closed the connection."""
        end = time.monotonic() + timeout
        while True:
            parsed = self._parse()
            if parsed:
                return parsed
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no frame in time; buffered {self.buffer[:100]!r}")
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return None
                self.buffer += chunk

    def recv_json(self, timeout=DEADLINE):
        while True:
            got = self.recv_frame(timeout)
            assert got is not None, "closed before a text frame"
            opcode, _, payload = got
            if opcode == 0x1:
                return json.loads(payload)

    def recv_close(self, timeout=DEADLINE):
        """The close frame's status code (skipping text frames before it)."""
        while True:
            got = self.recv_frame(timeout)
            assert got is not None, "TCP closed without a close frame"
            opcode, _, payload = got
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005

    def wait_eof(self, timeout=DEADLINE):
        recv_until(self.sock, lambda b: False, timeout)

    def close(self):
        self.sock.close()
