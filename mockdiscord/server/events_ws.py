"""`GET /_mock/events`: the event hub served as a WebSocket of JSON text messages.

Query parameters (all optional):

- `types=tick,rate_limited,...`: only these event types (see `mockdiscord.events`);
- `channel=<id>[,<id>...]`: only events about these channels (ticks and bans still pass);
- `queue=<n>`: this subscriber's queue bound (1..65536; default the hub's).

The first message is `{"type": "hello", ...}` with the filters and bounds in force. Then
one event per message. Each connection has its own writer task that takes batches from its
`Subscription` and encodes them; a slow reader therefore stalls only its own writer, its
queue fills, and further events are dropped and reported (`{"type": "dropped", ...}`), while
requests to the mock proceed untouched. See docs/events.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from mockdiscord.events import EVENT_TYPES, EventHub
from mockdiscord.server.responses import control_json

__all__ = ["MAX_QUEUE_LIMIT", "events_websocket", "parse_event_filters"]

MAX_QUEUE_LIMIT = 65536


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_event_filters(
    query: dict[str, str],
) -> tuple[frozenset[str] | None, frozenset[str] | None, int | None]:
    """(types, channels, queue bound) from the query string; FilterError names the field."""
    types: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    queue: int | None = None
    if "types" in query:
        types = frozenset(_split(query["types"]))
        unknown = types - EVENT_TYPES
        if not types or unknown:
            raise FilterError(
                "types",
                f"unknown event type(s) {', '.join(sorted(unknown)) or '(none given)'}; "
                f"known: {', '.join(sorted(EVENT_TYPES))}",
            )
    raw_channels = query.get("channel", query.get("channels"))
    if raw_channels is not None:
        channels = frozenset(_split(raw_channels))
        if not channels or not all(c.isdigit() for c in channels):
            raise FilterError("channel", "expected channel ids (snowflakes), comma-separated")
    if "queue" in query:
        try:
            queue = int(query["queue"])
        except ValueError:
            queue = 0
        if not 1 <= queue <= MAX_QUEUE_LIMIT:
            raise FilterError("queue", f"expected an integer from 1 to {MAX_QUEUE_LIMIT}")
    return types, channels, queue


def _error(field: str, message: str) -> web.Response:
    return control_json({"error": message, "field": field}, status=400)


async def events_websocket(request: web.Request, hub: EventHub) -> web.StreamResponse:
    """Serve one WebSocket subscriber until either side closes."""
    try:
        types, channels, queue = parse_event_filters(dict(request.query))
    except FilterError as exc:
        return _error(exc.field, exc.message)
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=1 << 16)
    if not ws.can_prepare(request).ok:
        return _error("upgrade", "GET /_mock/events is a WebSocket; connect with a WS client")
    await ws.prepare(request)
    subscription = hub.subscribe(types=types, channels=channels, max_queue=queue)
    await ws.send_str(
        json.dumps(
            {
                "type": "hello",
                "tick_interval_s": hub.tick_interval_s,
                "max_queue": subscription.max_queue,
                "types": sorted(types) if types is not None else None,
                "channels": sorted(channels) if channels is not None else None,
            }
        )
    )

    async def read_until_closed() -> None:
        async for message in ws:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
        subscription.close()

    reader = asyncio.create_task(read_until_closed())
    try:
        while not ws.closed:
            batch = await subscription.next_batch()
            if not batch:
                break
            for event in batch:
                await ws.send_str(json.dumps(event, separators=(",", ":")))
    except (ConnectionResetError, RuntimeError):
        pass  # the client went away mid-send
    finally:
        subscription.close()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close()
    return ws
