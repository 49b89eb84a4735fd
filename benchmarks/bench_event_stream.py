"""Does watching the mock slow it down? p99 request latency with and without the stream.

The event stream's contract (docs/events.md) is that publishing never slows a request. This
benchmark checks it end to end on loopback: a mock server runs in its own process, a load
generator (this process) sends a fixed-rate open-loop mix of requests, and the run is
repeated:

1. with no subscriber;
2. with one subscriber reading every event as fast as it can;
3. with one stalled subscriber (a queue of 64, a tiny socket buffer, reading nothing until
   the load is over, then catching up): requests must not notice. Whether it also loses
   events depends on how much the kernel's socket buffers absorb (at this mix, ~200
   events/s, loopback buffers often hold a 10 s backlog); the `dropped` column shows the
   count the stream reported. Drop accounting itself is proven in tests/mockdiscord/
   test_events.py.

The mix is 90% `GET /users/@me` (bucketless, the global limit is raised out of the way) and
10% `POST /channels/{id}/messages` to one channel (5 per 5 s: mostly user 429s, so the
stream carries a steady flow of `rate_limited` events, plus some `message_created`).

Figures: achieved rate, client-side p50/p99 latency (send to response), the server's own
p99 from the ledger (`latency_ms`), events and ticks received, events dropped. The ratio
of p99 with a subscriber to p99 without one should be close to 1.

`python -m benchmarks.bench_event_stream [seconds] [rate]`; `make bench` uses 10 s at
2,000 requests/s.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import aiohttp

RATE = 2000
SECONDS = 10.0
SLICE_S = 0.005
CONNECTIONS = 32


@dataclass
class RunResult:
    label: str
    sent: int
    seconds: float
    client_p50_ms: float
    client_p99_ms: float
    server_p99_ms: float
    statuses: dict[int, int]
    events: int = 0
    ticks: int = 0
    dropped: int = 0
    late_slices: int = 0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------------------- the server


def serve() -> None:
    """Child process: a mock with the live extension on a free port; prints the port."""
    from aiohttp import web

    from mockdiscord.server import MockConfig, create_app

    async def run() -> None:
        app = create_app(MockConfig(seed=1))
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        loop.add_reader(sys.stdin.fileno(), done.set)  # parent closes stdin to stop us
        await done.wait()
        await runner.cleanup()

    asyncio.run(run())


# ------------------------------------------------------------------------- the client


async def _subscriber(base: str, session: aiohttp.ClientSession, result: RunResult) -> None:
    """A consumer that reads every event as soon as it arrives."""
    async with session.ws_connect(base.replace("http://", "ws://") + "/_mock/events") as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            event = json.loads(message.data)
            result.events += 1
            if event["type"] == "tick":
                result.ticks += 1


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return head[0] & 0x0F, await reader.readexactly(length)


async def _stalled_subscriber(port: int, result: RunResult, resume: asyncio.Event) -> None:
    """A consumer that stops reading during the load (the worst case), then catches up.

    A bare WebSocket over a socket with a 4 KiB receive buffer, so the server's buffers
    fill quickly and its per-subscriber queue (64 events here) overflows.
    """
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /_mock/events?queue=64 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        await resume.wait()
        caught_up_at = time.time()
        while True:  # read until the stream is live again: an event stamped after resuming
            opcode, payload = await asyncio.wait_for(_read_frame(reader), 5.0)
            if opcode != 1:
                continue
            event = json.loads(payload)
            result.events += 1
            if event["type"] == "tick":
                result.ticks += 1
            elif event["type"] == "dropped":
                result.dropped = event["total"]
            if event.get("t", 0) >= caught_up_at:
                return
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    """One HTTP/1.1 keep-alive request; a bare client keeps the load generator cheap."""
    writer.write(raw)
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def _raw_requests(port: int, token: str, channel: str) -> tuple[bytes, bytes]:
    host = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bot {token}\r\n"
    get = f"GET /api/v10/users/@me HTTP/1.1\r\n{host}\r\n".encode()
    body = b'{"content":"load"}'
    post = (
        f"POST /api/v10/channels/{channel}/messages HTTP/1.1\r\n{host}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    return get, post


async def _run(
    base: str, token: str, channel: str, label: str, seconds: float, rate: int, subscriber: str
) -> RunResult:
    port = int(base.rsplit(":", 1)[1])
    get, post = _raw_requests(port, token, channel)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    result = RunResult(label, 0, 0.0, 0.0, 0.0, 0.0, statuses)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/_mock/ledger") as response:
            ledger_start = int(response.headers["X-Ledger-Total"])
        watcher = None
        resume = asyncio.Event()
        if subscriber == "fast":
            watcher = asyncio.create_task(_subscriber(base, session, result))
        elif subscriber == "stalled":
            watcher = asyncio.create_task(_stalled_subscriber(port, result, resume))
        if watcher is not None:
            await asyncio.sleep(0.3)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def connection() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                while (raw := await queue.get()) is not None:
                    started = time.perf_counter()
                    status = await _exchange(reader, writer, raw)
                    latencies.append((time.perf_counter() - started) * 1000.0)
                    statuses[status] = statuses.get(status, 0) + 1
            finally:
                writer.close()
                await writer.wait_closed()

        workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
        per_slice = rate * SLICE_S
        loop = asyncio.get_running_loop()
        begin = loop.time()
        owed = 0.0
        for n in range(int(seconds / SLICE_S)):
            owed += per_slice
            while owed >= 1:
                queue.put_nowait(post if result.sent % 10 == 0 else get)
                result.sent += 1
                owed -= 1
            delay = begin + (n + 1) * SLICE_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                result.late_slices += 1
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
        result.seconds = loop.time() - begin
        if watcher is not None:
            resume.set()
            await asyncio.sleep(0.5)
            if subscriber == "stalled":
                await asyncio.wait_for(watcher, 30.0)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        async with session.get(f"{base}/_mock/ledger", params={"after": str(ledger_start)}) as r:
            server = [json.loads(line)["latency_ms"] for line in (await r.text()).splitlines()]
    result.client_p50_ms = statistics.median(latencies)
    result.client_p99_ms = _pct(latencies, 0.99)
    result.server_p99_ms = _pct([s for s in server if s is not None], 0.99)
    return result


async def _bench(base: str, seconds: float, rate: int) -> list[RunResult]:
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{base}/_mock/config", json={"global_limit": 1_000_000}) as r:
            assert r.status == 200, await r.text()
        async with session.get(f"{base}/_mock/applications") as response:
            app = (await response.json())["applications"][0]
        async with session.get(f"{base}/_mock/channels") as response:
            channels = (await response.json())["channels"]
    channel = next(c["id"] for c in channels if c.get("guild_id"))
    results = []
    for label, subscriber in (
        ("no subscriber", "none"),
        ("fast subscriber", "fast"),
        ("stalled subscriber", "stalled"),
        ("no subscriber (again)", "none"),
    ):
        results.append(
            await _run(base, app["bot_token"], channel, label, seconds, rate, subscriber)
        )
    return results


def _measure(seconds: float, rate: int) -> list[RunResult]:
    """Start the mock in a child process, run the four loads against it, stop it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_event_stream", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        return asyncio.run(_bench(f"http://127.0.0.1:{port}", seconds, rate))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--serve"]:
        serve()
        return
    seconds = float(args[0]) if args else SECONDS
    rate = int(args[1]) if len(args) > 1 else RATE
    results = _measure(seconds, rate)
    base = results[0].client_p99_ms
    print(f"{seconds:g} s per run at {rate} requests/s (open loop), mock in its own process")
    print(
        f"{'run':<22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs none':>7} "
        f"{'srv p99':>7} {'events':>7} {'ticks':>6} {'dropped':>7} {'late':>5}"
    )
    for r in results:
        print(
            f"{r.label:<22} {r.sent / r.seconds:>7.0f} {r.client_p50_ms:>7.2f} "
            f"{r.client_p99_ms:>7.2f} {r.client_p99_ms / base:>7.2f} {r.server_p99_ms:>7.3f} "
            f"{r.events:>7} {r.ticks:>6} {r.dropped:>7} {r.late_slices:>5}"
        )
    print("statuses:", ", ".join(f"{k}: {v}" for k, v in sorted(results[1].statuses.items())))


if __name__ == "__main__":
    main()
