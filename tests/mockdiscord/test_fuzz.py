"""Fuzzing the HTTP surface: no input may produce a 500, and /api errors are always JSON.

Requests are built from the real route templates with parameters drawn from live ids,
random snowflakes and junk, plus random paths, methods, headers and bodies (valid JSON,
near-valid message payloads, raw bytes, malformed multipart). Hypothesis draws a fixed
(derandomized) set of 200 requests up front; they are then sent one by one on the test's
loop (no shrinking: a failure prints the request). The clock moves 10 s per
example so per-route buckets refill and handlers, not 429s, answer most requests.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from mockdiscord.profile import KNOWN_ROUTES
from mockdiscord.world import InteractionType

from .conftest import Mock, MockFactory

ROUTES = sorted(tuple(route.split(" ", 1)) for route in KNOWN_ROUTES)
PRINTABLE = "".join(chr(c) for c in range(33, 127))
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
JUNK_SEGMENTS = st.sampled_from(
    [
        "",
        "@me",
        "@original",
        "..",
        "%00",
        "%2F",
        "%F0%9F%91%8D",
        "-1",
        "0",
        "9" * 25,
        "%ZZ",
        "a%20b",
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
message_like = st.fixed_dictionaries(
    {},
    optional={
        "content": st.one_of(st.text(max_size=40), st.just("x" * 2001), json_values),
        "embeds": st.one_of(st.lists(json_values, max_size=12), json_values),
        "components": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from([1, 2, "1", None])},
                    optional={"components": st.lists(json_values, max_size=6)},
                ),
                max_size=7,
            ),
            json_values,
        ),
        "nonce": json_values,
        "enforce_nonce": json_values,
        "flags": st.one_of(st.integers(), json_values),
        "type": st.one_of(st.sampled_from([1, 4, 5, 6, 7, 8, 9, 10, 12]), json_values),
        "data": json_values,
        "recipient_id": json_values,
        "name": json_values,
        "topic": json_values,
        "messages": json_values,
        "count": json_values,
        "names": json_values,
        "global_limit": json_values,
        "interactions_url": json_values,
        "profile": json_values,
        "routes": json_values,
    },
)
bodies = st.one_of(
    st.none(),
    message_like.map(lambda d: ("json", json.dumps(d).encode())),
    st.lists(message_like, max_size=3).map(lambda d: ("json", json.dumps(d).encode())),
    json_values.map(lambda d: ("json", json.dumps(d).encode())),
    st.binary(max_size=64).map(lambda b: ("json", b)),
    st.binary(max_size=64).map(lambda b: ("multipart/form-data", b)),
    st.binary(max_size=64).map(lambda b: ("multipart/form-data; boundary=xyz", b"--xyz\r\n" + b)),
    st.binary(max_size=64).map(lambda b: ("text/plain", b)),
)


class Pool:
    """Live ids of a seeded world, so fuzzed requests reach deep into the handlers."""

    def __init__(self, mock: Mock) -> None:
        world = mock.state.world
        app = world.default_application
        user = world.create_user("fuzz")
        closed = world.create_user("closed", dms_closed=True)
        dm = world.open_dm(app.bot, user)
        closed_dm = world.open_dm(app.bot, closed)
        message, _ = world.create_message(dm, app.bot, content="seed")
        foreign, _ = world.create_message(world.text_channel, user, content="theirs")
        command = world.create_interaction(app, user, dm)
        click = world.create_interaction(
            app, user, dm, interaction_type=InteractionType.MESSAGE_COMPONENT, message=message
        )
        world.acknowledge(click, 4, ephemeral=False)
        self.tokens = [app.bot_token, "Bot junk", "", "x.y.z"]
        self.values = {
            "channel_id": [dm.id, closed_dm.id, world.text_channel.id],
            "message_id": [message.id, foreign.id],
            "user_id": [user.id, closed.id, app.bot.id],
            "guild_id": [world.guild.id],
            "role_id": [world.guild.id],
            "application_id": [app.id],
            "webhook_id": [app.id],
            "interaction_id": [command.id, click.id],
            "interaction_token": [command.token, click.token],
            "webhook_token": [command.token, click.token, app.bot_token],
            "emoji": ["%F0%9F%91%8D", "name:123"],
        }


def _segment(pool: Pool, name: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(pool.values.get(name, ["x"])),
        st.sampled_from(pool.values.get(name, ["x"])),
        st.integers(min_value=0, max_value=2**64).map(str),
        JUNK_SEGMENTS,
        st.text(alphabet=PRINTABLE.replace("/", "").replace("?", "").replace("#", ""), max_size=12),
    )


@st.composite
def requests(draw: st.DrawFn, pool: Pool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["template", "template", "template", "random", "control"]))
    method = draw(st.sampled_from(METHODS))
    if kind == "template":
        route_method, template = draw(st.sampled_from(ROUTES))
        method = draw(st.sampled_from([route_method] * 4 + [method]))
        parts = []
        for segment in template.strip("/").split("/"):
            if segment.startswith("{"):
                parts.append(draw(_segment(pool, segment[1:-1])))
            else:
                parts.append(segment)
        path = "/api/v10/" + "/".join(parts)
    else:
        prefix = "/api/v10/" if kind == "random" else "/_mock/"
        junk = st.lists(_segment(pool, "any"), max_size=4)
        path = prefix + "/".join(draw(junk))
    headers = {}
    token = draw(st.sampled_from([pool.tokens[0]] * 6 + [*pool.tokens[1:], None]))
    if token is not None:
        headers["Authorization"] = f"Bot {token}" if token and "Bot" not in token else token
    body = draw(bodies)
    data = None
    if body is not None:
        content_type, data = body
        headers["Content-Type"] = "application/json" if content_type == "json" else content_type
    query = draw(
        st.dictionaries(
            st.sampled_from(["limit", "before", "after", "around", "with_response", "wait"]),
            st.text(alphabet=PRINTABLE, max_size=8),
            max_size=2,
        )
    )
    return {"method": method, "path": path, "headers": headers,
            "data": data, "query": query}  # fmt: skip


async def _send(mock: Mock, request: dict[str, Any]):
    url = mock.client.make_url("/").join(URL(request["path"], encoded=True))
    return await mock.client.session.request(
        request["method"],
        url.with_query(request["query"]) if request["query"] else url,
        headers=request["headers"],
        data=request["data"],
    )


async def test_fuzzed_requests_never_get_a_500_and_api_errors_are_json(
    make_mock: MockFactory,
) -> None:
    mock = await make_mock()
    pool = Pool(mock)
    seen_statuses: Counter[int] = Counter()

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        request = data.draw(requests(pool))
        examples.append(request)

    examples: list[dict[str, Any]] = []
    run()
    assert len(examples) >= 100
    for request in examples:
        mock.clock.advance(10.0)
        response = await _send(mock, request)
        async with response:
            raw = await response.read()
            seen_statuses[response.status] += 1
            context = f"{request['method']} {request['path']} -> {response.status} {raw[:200]!r}"
            assert response.status < 500, context
            if request["path"].startswith("/api") and request["method"] != "HEAD":
                assert response.headers.get("Via") == "1.1 google", context
                if response.status != 204:
                    assert response.headers["Content-Type"] == "application/json", context
                    assert raw, context
                    body = json.loads(raw)
                    if response.status >= 400:
                        assert isinstance(body["message"], str), context
                        if response.status != 429:
                            assert isinstance(body["code"], int), context
            elif request["path"].startswith("/_mock") and response.status >= 400 and raw:
                assert response.headers["Content-Type"] == "application/json", context
                body = json.loads(raw)  # "/_mock/../x" leaves the control plane: Discord's 404
                assert "error" in body or body == {"message": "404: Not Found", "code": 0}, context
    # the fuzzer reached real handlers, not only the router's 404/405
    assert {200, 204, 400, 401, 404, 405} <= set(seen_statuses)
