"""`PUT /status/dispatch`: the run-time strategy switch of the bot's status API."""

from bot.app.server import _is_loopback


async def test_loopback_client_switches_the_strategy(harness) -> None:
    response = await harness.http.put("/status/dispatch", json={"strategy": "batched"})
    assert response.status == 200 and (await response.json()) == {"strategy": "batched"}
    assert harness.dispatcher.strategy == "batched"
    status = await (await harness.http.get("/status")).json()
    assert "batched" in str(status)


async def test_unknown_strategy_and_bad_bodies_are_400_and_change_nothing(harness) -> None:
    for body in ({"strategy": "yolo"}, {"strategy": 3}, ["paced"]):
        response = await harness.http.put("/status/dispatch", json=body)
        assert response.status == 400, body
    response = await harness.http.put("/status/dispatch", data=b"{not json")
    assert response.status == 400
    assert harness.dispatcher.strategy == "paced"


def test_only_loopback_addresses_count_as_local() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("127.3.2.1")
    for remote in ("10.0.0.1", "192.168.1.2", "2001:db8::1", None, "not-an-ip"):
        assert not _is_loopback(remote)
