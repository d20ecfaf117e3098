#!/usr/bin/python3
"""A fake server for the chat's takeover test: it welcomes each hello, then at once says
`bye` with the reason given on the command line (as a server with accounts does when the
same account signs in elsewhere) and closes. It prints its port, then one line per
connection accepted, so the test can count reconnects.

Usage: fake_takeover.py REASON
"""
import json
import socket
import sys

reason = sys.argv[1]
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
while True:
    conn, _ = listener.accept()
    print("connection", flush=True)
    with conn, conn.makefile("rwb") as stream:
        for line in stream:
            frame = json.loads(line)
            if frame.get("op") != "hello":
                continue
            welcome = {"op": "welcome", "id": frame.get("id"), "name": frame.get("name", "guest-1"),
                       "session": "s1", "server": "parley/fake", "protocol": 1,
                       "limits": {"max_frame": 65536, "max_subs": 100, "ping_interval_s": 30}}
            stream.write((json.dumps(welcome) + "\n").encode())
            stream.write((json.dumps({"op": "bye", "reason": reason}) + "\n").encode())
            stream.flush()
            break
