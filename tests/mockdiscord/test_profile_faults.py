"""`[faults]` in a profile: parsed strictly, installed at start-up and on a live swap."""

import asyncio
import sys
import textwrap

import aiohttp
import pytest

from mockdiscord.cli import main
from mockdiscord.faults import FaultConfig
from mockdiscord.profile import ProfileError, load_profile
from tests.mockdiscord.conftest import Mock, MockFactory

CREATE = "POST /channels/{channel_id}/messages"

FAULTY = """
name = "faulty"

[faults]
seed = 5

[faults.errors]
rate = 1.0
statuses = [503]
routes = ["POST /channels/{channel_id}/messages"]

[[faults.latency]]
route = "GET /gateway/bot"
fixed_ms = 1
"""


def write(tmp_path, text: str, name: str = "faulty.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_faults_table_is_parsed_onto_the_profile(tmp_path) -> None:
    faults = load_profile(write(tmp_path, FAULTY)).faults
    assert faults.seed == 5 and faults.active
    assert (faults.errors.rate, faults.errors.statuses, faults.errors.routes) == (
        1.0,
        (503,),
        (CREATE,),
    )
    (rule,) = faults.latency
    assert (rule.pattern, rule.fixed_ms) == ("GET /gateway/bot", 1.0)


def test_no_faults_table_means_no_faults() -> None:
    assert load_profile("discord").faults == FaultConfig()
    assert not load_profile("discord").faults.active


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[faults.errors]\nrate = 1.5\n", "faulty.toml: faults.errors.rate: expected a prob"),
        ("[faults]\nerors = {rate = 0.1}\n", "faulty.toml: faults.erors: unknown key"),
        ("faults = 3\n", "faulty.toml: faults: expected a table, got 3"),
        ("[faults.errors]\nstatuses = [418]\n", "faulty.toml: faults.errors.statuses: expected"),
        ('[faults]\nseed = "x"\n', "faulty.toml: faults.seed: expected an integer"),
        (
            '[[faults.latency]]\nroute = "GET /nope"\n',
            "faulty.toml: faults.latency[0].route: 'GET /nope' matches no route",
        ),
        (
            "[faults.interactions]\ndelay_ms = -1\n",
            "faulty.toml: faults.interactions.delay_ms: expected milliseconds",
        ),
    ],
)
def test_bad_faults_keys_are_one_line_errors(tmp_path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path.parent}/{expected}"), message
    assert "\n" not in message


async def _create(mock: Mock, channel: str, i: int) -> int:
    response = await mock.api("POST", f"/channels/{channel}/messages", json={"content": f"m{i}"})
    return response.status


async def test_server_started_with_the_profile_injects_its_faults(
    make_mock: MockFactory, tmp_path
) -> None:
    mock = await make_mock(profile=write(tmp_path, FAULTY))
    channel = await mock.new_dm()  # not a faulted route: it works
    statuses = [await _create(mock, channel, i) for i in range(4)]
    assert statuses == [503] * 4
    assert (await mock.api("GET", "/gateway/bot")).status == 200
    stats = await (await mock.control("GET", "/stats")).json()
    faults = stats["faults"]
    assert (faults["errors"], faults["errors_by_status"]) == (4, {"503": 4})
    assert faults["latency"] == 1 and faults["total"] == 5
    assert faults["config"]["seed"] == 5
    assert stats["responses_by_status"]["503"] == 4
    config = await (await mock.control("GET", "/config")).json()
    assert config["profile"]["name"] == "faulty"
    assert config["faults"]["errors"]["statuses"] == [503]


async def test_live_profile_swap_installs_and_removes_the_profiles_faults(
    mock: Mock, tmp_path
) -> None:
    channel = await mock.new_dm()
    assert await _create(mock, channel, 0) == 200
    path = write(tmp_path, FAULTY)
    swapped = await mock.control("PUT", "/config", json={"profile": str(path)})
    assert swapped.status == 200
    assert (await swapped.json())["faults"]["errors"]["rate"] == 1.0
    assert await _create(mock, channel, 1) == 503
    # Other live changes keep the faults in force (they do not reload the profile).
    await mock.control("PUT", "/config", json={"global_limit": 40, "interaction_deadline": 2})
    assert await _create(mock, channel, 2) == 503
    # A faults field in the same PUT as the profile wins over the profile's table.
    both = {"profile": str(path), "faults": {"errors": {"rate": 0.0}}}
    assert (await mock.control("PUT", "/config", json=both)).status == 200
    assert await _create(mock, channel, 3) == 200
    await mock.control("PUT", "/config", json={"profile": str(path)})
    assert await _create(mock, channel, 4) == 503
    # A profile without [faults] has none: swapping back to discord stops them.
    await mock.control("PUT", "/config", json={"profile": "discord"})
    assert await _create(mock, channel, 5) == 200
    stats = await (await mock.control("GET", "/stats")).json()
    assert stats["faults"]["errors"] == 3 and stats["faults"]["config"]["errors"]["rate"] == 0


async def test_live_swap_to_a_bad_faults_profile_changes_nothing(mock: Mock, tmp_path) -> None:
    bad = write(tmp_path, "[faults.errors]\nrate = 2\n", "bad.toml")
    response = await mock.control("PUT", "/config", json={"profile": str(bad)})
    assert response.status == 400
    body = await response.json()
    assert body["field"] == "profile"
    assert body["error"].startswith(f"{bad}: faults.errors.rate: expected a probability")
    config = await (await mock.control("GET", "/config")).json()
    assert config["profile"]["name"] == "discord" and config["faults"]["errors"]["rate"] == 0


def test_cli_bad_faults_profile_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    bad = write(tmp_path, "[faults.resets]\nrate = -0.5\n", "bad.toml")
    assert main(["serve", "--port", "0", "--profile", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"mockdiscord: error: bad profile: {bad}: faults.resets.rate: "
        "expected a probability 0..1, got -0.5"
    ]


async def test_cli_serve_with_a_faults_profile_injects_them(tmp_path) -> None:
    path = write(tmp_path, FAULTY)
    launch = "import sys; from mockdiscord.cli import main; sys.exit(main())"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        launch,
        "serve",
        "--port",
        "0",
        "--profile",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
        assert line.startswith("mockdiscord ready "), line
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        api = fields["api"]
        base = api.removesuffix("/api/v10")
        headers = {"Authorization": f"Bot {fields['bot_token']}"}
        async with aiohttp.ClientSession() as http:
            async with http.post(base + "/_mock/users", json={"count": 1}) as response:
                user = (await response.json())["ids"][0]
            async with http.post(
                api + "/users/@me/channels", json={"recipient_id": user}, headers=headers
            ) as response:
                assert response.status == 200
                channel = (await response.json())["id"]
            async with http.post(
                f"{api}/channels/{channel}/messages", json={"content": "hi"}, headers=headers
            ) as response:
                assert response.status == 503
                assert (await response.json()) == {"message": "503: Service Unavailable", "code": 0}
            async with http.get(base + "/_mock/stats") as response:
                assert (await response.json())["faults"]["errors"] == 1
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0 and b"Traceback" not in stderr


def test_the_faults_example_in_docs_profiles_md_loads(tmp_path) -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "profiles.md").read_text()
    section = doc.split("## `[faults]`", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    faults = load_profile(write(tmp_path, example, "example.toml")).faults
    assert faults.seed == 42
    assert (faults.errors.rate, faults.errors.stored_before_error) == (0.1, 0.5)
    assert faults.errors.routes == (CREATE,)
    (rule,) = faults.latency
    assert (rule.pattern, rule.fixed_ms, rule.jitter_ms) == ("* /webhooks/*", 50.0, 30.0)
    assert (faults.interactions.delay_rate, faults.interactions.delay_ms) == (0.05, 1000.0)
