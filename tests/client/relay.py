#!/usr/bin/python3
"""A TLS and WebSocket front for a plain parley-server, for the client's transport tests.

The client's TLS and WebSocket code is tested against implementations other than our
own: Python's ssl module (OpenSSL, with its own certificate handling) terminates TLS, and
the `websockets` library (which refuses unmasked client frames, as RFC 6455 requires)
terminates WebSocket. Behind either, bytes go to the real server's plain TCP port:
each WebSocket text message is one frame and its line end, each line from the server
one text message.

Usage: relay.py UPSTREAM_PORT [--cert PEM --key PEM [--client-ca PEM]] [--ws]
Prints "listening on 127.0.0.1:PORT" once it accepts connections.
"""
import argparse
import asyncio
import ssl
import sys

import websockets


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - closing a broken transport
            pass


async def tcp_client(port, reader, writer):
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def ws_client(port, ws, _path=None):
    # Lines as long as the server sends (StreamReader stops at 64 KiB by default).
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port, limit=16 << 20)

    async def down():
        try:
            while True:
                line = await up_reader.readline()
                if not line:
                    break
                await ws.send(line.rstrip(b"\n").decode())
        finally:
            await ws.close()

    async def up():
        try:
            async for message in ws:
                up_writer.write(message.encode() + b"\n")
                await up_writer.drain()
        finally:
            up_writer.close()

    await asyncio.gather(down(), up(), return_exceptions=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("upstream", type=int)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    parser.add_argument("--ws", action="store_true")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)
    if args.ws:
        server = await websockets.serve(
            lambda ws, path=None: ws_client(args.upstream, ws, path), "127.0.0.1", 0,
            ssl=context, subprotocols=["parley.v1"], max_size=16 << 20)
        port = server.sockets[0].getsockname()[1]
    else:
        server = await asyncio.start_server(
            lambda r, w: tcp_client(args.upstream, r, w), "127.0.0.1", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
