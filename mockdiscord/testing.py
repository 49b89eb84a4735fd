"""`mockdiscord.testing`: a pytest plugin that gives any bot project a real mock Discord.

Install the distribution and the plugin is registered (entry point `pytest11`), or add
`pytest_plugins = ["mockdiscord.testing"]` to the root `conftest.py` (or a test module).
Async tests need pytest-asyncio. Then:

```python
async def test_my_bot_answers_ping(mockdiscord):
    await mockdiscord.set_interactions_url(my_bot_url)     # the mock PINGs it first
    player = await mockdiscord.create_user("ana")
    result = await mockdiscord.run_command(player, "ping")
    assert result["outcome"] == "responded"
    assert (await mockdiscord.dm(player))[-1]["content"] == "pong"
```

- `mockdiscord`: a fresh mock on a free loopback port for each test (a `MockDiscord`, see
  `mockdiscord.harness`), stopped after the test;
- `mockdiscord_factory`: `await mockdiscord_factory(profile=..., seed=..., bot_token=...)`
  starts mocks with options; all are stopped after the test.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from mockdiscord.harness import MockDiscord, run_mock

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # installed without pytest-asyncio: stay inert until a fixture is used

    def _async_fixture(func: Callable[..., Any]) -> Any:
        def needs_pytest_asyncio() -> None:
            pytest.fail("mockdiscord's fixtures need pytest-asyncio: pip install pytest-asyncio")

        needs_pytest_asyncio.__name__ = func.__name__
        return pytest.fixture(name=func.__name__)(needs_pytest_asyncio)


__all__ = ["mockdiscord", "mockdiscord_factory"]

MockFactory = Callable[..., Awaitable[MockDiscord]]


@_async_fixture
async def mockdiscord_factory() -> AsyncIterator[MockFactory]:
    """Start mocks with options: `mock = await mockdiscord_factory(profile="my.toml")`."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**options: Any) -> MockDiscord:
            return await stack.enter_async_context(run_mock(**options))

        yield start


@_async_fixture
async def mockdiscord(mockdiscord_factory: MockFactory) -> MockDiscord:
    """A fresh mock Discord on a free loopback port, stopped after the test."""
    return await mockdiscord_factory()
