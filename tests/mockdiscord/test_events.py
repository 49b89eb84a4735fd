"""The event hub: filtering, bounded queues that drop (and say so), coalesced ticks."""

import asyncio
import json

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from mockdiscord.clock import ManualClock
from mockdiscord.events import (
    EventHub,
    ban_event,
    interaction_event,
    message_event,
    rate_limited_event,
)
from mockdiscord.server.events_ws import events_websocket


def msg(channel="1", mid="10", content="hi"):
    return message_event(
        "created", {"id": mid, "channel_id": channel, "author": {"id": "7"}, "content": content}
    )


def test_events_reach_subscribers_in_order_with_sequence_numbers() -> None:
    hub = EventHub(ManualClock())
    sub = hub.subscribe()
    hub.publish(msg(mid="1"))
    hub.publish(msg(mid="2"))
    batch = sub.take()
    assert [e["message_id"] for e in batch] == ["1", "2"]
    assert batch[1]["seq"] == batch[0]["seq"] + 1
    assert batch[0]["t"] == pytest.approx(1_700_000_000.0)
    assert sub.take() == []


def test_type_and_channel_filters_apply_at_publish_time() -> None:
    hub = EventHub(ManualClock())
    only_rl = hub.subscribe(types=["rate_limited", "tick"])
    only_chan = hub.subscribe(channels=["5"])
    hub.publish(msg(channel="5"))
    hub.publish(msg(channel="6"))
    hub.publish(ban_event(client_ip="127.0.0.1", duration_s=60.0))
    hub.publish(
        rate_limited_event(
            method="POST",
            route="/channels/{channel_id}/messages",
            scope="user",
            bucket="b",
            retry_after=1.0,
            application_id="a",
            channel_id="6",
        )
    )
    hub.tick()
    assert [e["type"] for e in only_rl.take()] == ["rate_limited", "tick"]
    kept = only_chan.take()
    assert [(e["type"], e.get("channel_id")) for e in kept] == [
        ("message_created", "5"),
        ("ban", None),
        ("tick", None),
    ]


def test_unknown_type_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="bogus"):
        EventHub(ManualClock()).subscribe(types=["tick", "bogus"])


def test_a_full_queue_drops_new_events_and_reports_how_many() -> None:
    hub = EventHub(ManualClock())
    sub = hub.subscribe(max_queue=3)
    for i in range(10):
        hub.publish(msg(mid=str(i)))
    assert sub.queued == 3
    batch = sub.take()
    assert batch[0] == {"type": "dropped", "count": 7, "total": 7}
    assert [e["message_id"] for e in batch[1:]] == ["0", "1", "2"]
    hub.publish(msg(mid="x"))
    hub.publish(msg(mid="y"))
    hub.publish(msg(mid="z"))
    hub.publish(msg(mid="w"))
    batch = sub.take()
    assert batch[0] == {"type": "dropped", "count": 1, "total": 8}
    assert sub.stats()["dropped"] == 8


def test_other_subscribers_are_unaffected_by_a_slow_one() -> None:
    hub = EventHub(ManualClock())
    slow = hub.subscribe(max_queue=1)
    fast = hub.subscribe(max_queue=100)
    for i in range(50):
        hub.publish(msg(mid=str(i)))
    assert len(fast.take(limit=1000)) == 50
    assert slow.dropped == 49


def test_unsent_ticks_are_coalesced_to_the_freshest() -> None:
    hub = EventHub(ManualClock())
    sub = hub.subscribe(max_queue=1)
    hub.publish(msg())
    hub.publish(msg())  # dropped: the queue is full
    for _ in range(3):
        hub.tick()
    batch = sub.take()
    assert [e["type"] for e in batch] == ["dropped", "message_created", "tick"]
    assert batch[-1]["tick"] == 3
    assert sub.ticks_coalesced == 2


def test_tick_counts_last_tick_and_rolling_second() -> None:
    calls = []

    def hot(top):
        calls.append(top)
        return [{"key": "k", "remaining": 0}]

    hub = EventHub(ManualClock(), hot_buckets=hot, hot_top=3)
    assert hub.tick()["hot_buckets"] == []  # no subscriber: the engine is not asked
    assert calls == []
    hub.subscribe(types=["tick"])
    for _ in range(3):
        hub.record_request("app", counted=True, exempt=False, status=200, scope="user")
    hub.record_request("app", counted=False, exempt=True, status=200, scope=None)
    hub.record_request("app", counted=True, exempt=False, status=429, scope="global")
    hub.record_request(None, counted=True, exempt=False, status=429, scope=None, banned=True)
    first = hub.tick()
    app = first["applications"]["app"]
    assert (app["counted"], app["exempt"], app["requests"], app["rate_limited"]) == (4, 1, 5, 1)
    assert app["last_1s"]["counted"] == 4
    assert first["rate_limited"] == {"user": 0, "shared": 0, "global": 1, "ban": 1}
    assert first["hot_buckets"] == [{"key": "k", "remaining": 0}]
    assert calls == [3]
    hub.record_request("app", counted=True, exempt=False, status=200, scope="user")
    second = hub.tick()
    app = second["applications"]["app"]
    assert app["counted"] == 1
    assert app["last_1s"]["counted"] == 5
    assert second["rate_limited"]["global"] == 0
    assert second["rate_limited_1s"]["global"] == 1
    for _ in range(3):
        rolled = hub.tick()
    assert rolled["applications"]["app"]["last_1s"]["counted"] == 1  # the first tick left
    assert "app" not in hub.tick()["applications"]


async def test_next_batch_wakes_on_publish_and_ends_on_close() -> None:
    hub = EventHub(ManualClock())
    sub = hub.subscribe()
    waiter = asyncio.ensure_future(sub.next_batch())
    await asyncio.sleep(0)
    assert not waiter.done()
    hub.publish(msg())
    assert [e["type"] for e in await waiter] == ["message_created"]
    waiter = asyncio.ensure_future(sub.next_batch())
    await asyncio.sleep(0)
    sub.close()
    assert await waiter == []
    assert hub.subscriber_count == 0


async def test_run_ticks_on_the_loop_until_cancelled() -> None:
    hub = EventHub(ManualClock(), tick_interval_s=0.01)
    sub = hub.subscribe(types=["tick"])
    task = asyncio.ensure_future(hub.run())
    try:
        batch = await asyncio.wait_for(sub.next_batch(), 2.0)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert batch[0]["type"] == "tick"


def test_message_event_summarises_content_embeds_and_components() -> None:
    long = message_event("created", {"id": "1", "channel_id": "2", "content": "x" * 500})
    assert len(long["summary"]) == 120
    embed = message_event(
        "updated",
        {
            "id": "1",
            "channel_id": "2",
            "author": {"id": "3"},
            "content": "",
            "embeds": [{"title": "Match found"}],
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "custom_id": "ok", "label": "OK"},
                        {"type": 2, "url": "https://x"},
                        {"type": 3, "custom_id": "pick", "disabled": True},
                    ],
                }
            ],
        },
    )
    assert embed["type"] == "message_updated"
    assert embed["author_id"] == "3"
    assert embed["summary"] == "[embed] Match found"
    assert embed["components"] == [
        {"type": 2, "custom_id": "ok", "label": "OK"},
        {"type": 3, "custom_id": "pick", "disabled": True},
    ]
    deleted = message_event("deleted", {"id": "1", "channel_id": "2"})
    assert deleted == {"type": "message_deleted", "channel_id": "2", "message_id": "1"}
    with pytest.raises(ValueError):
        message_event("exploded", {})


def test_interaction_event_carries_the_outcome() -> None:
    event = interaction_event(
        {"interaction_id": "9", "outcome": "failed", "latency_ms": 3000.0, "response_type": None},
        kind="command",
        name="queue",
        user_id="1",
        channel_id="2",
        application_id="3",
    )
    assert (event["outcome"], event["latency_ms"], event["channel_id"]) == ("failed", 3000.0, "2")


# the WebSocket ------------------------------------------------------------------------------


@pytest.fixture
async def ws_client():
    hub = EventHub(ManualClock())

    async def handler(request):
        return await events_websocket(request, hub)

    app = web.Application()
    app.router.add_get("/_mock/events", handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield hub, client
    hub.close()


async def receive_json(ws):
    message = await asyncio.wait_for(ws.receive(), 5.0)
    assert message.type == WSMsgType.TEXT, message
    return json.loads(message.data)


async def test_websocket_sends_hello_then_filtered_events(ws_client) -> None:
    hub, client = ws_client
    async with client.ws_connect("/_mock/events?types=message_created,tick&channel=5") as ws:
        hello = await receive_json(ws)
        assert hello["type"] == "hello"
        assert hello["types"] == ["message_created", "tick"]
        assert hello["channels"] == ["5"]
        hub.publish(msg(channel="6", mid="skip"))
        hub.publish(msg(channel="5", mid="keep"))
        hub.tick()
        first = await receive_json(ws)
        second = await receive_json(ws)
        assert (first["type"], first["message_id"]) == ("message_created", "keep")
        assert second["type"] == "tick"
    await asyncio.sleep(0)


async def test_websocket_reports_drops_for_a_burst_beyond_its_queue(ws_client) -> None:
    hub, client = ws_client
    async with client.ws_connect("/_mock/events?queue=4") as ws:
        assert (await receive_json(ws))["max_queue"] == 4
        for i in range(20):  # one synchronous burst: the writer cannot run in between
            hub.publish(msg(mid=str(i)))
        dropped = await receive_json(ws)
        assert dropped == {"type": "dropped", "count": 16, "total": 16}
        ids = [(await receive_json(ws))["message_id"] for _ in range(4)]
        assert ids == ["0", "1", "2", "3"]


async def test_closing_the_socket_unsubscribes(ws_client) -> None:
    hub, client = ws_client
    ws = await client.ws_connect("/_mock/events")
    await receive_json(ws)
    assert hub.subscriber_count == 1
    await ws.close()
    for _ in range(100):
        if hub.subscriber_count == 0:
            break
        await asyncio.sleep(0.01)
    assert hub.subscriber_count == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [("types=tick,nope", "types"), ("channel=abc", "channel"), ("queue=0", "queue")],
)
async def test_bad_filters_get_a_400_naming_the_field(ws_client, query, field) -> None:
    _, client = ws_client
    response = await client.get(f"/_mock/events?{query}")
    assert response.status == 400
    assert response.headers["Content-Type"] == "application/json"
    assert (await response.json())["field"] == field


async def test_plain_get_without_upgrade_is_a_clear_400(ws_client) -> None:
    _, client = ws_client
    response = await client.get("/_mock/events")
    assert response.status == 400
    assert "WebSocket" in (await response.json())["error"]
