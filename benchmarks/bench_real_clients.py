"""Real clients on the 60-request global burst, under each global-limit algorithm.

Discord does not document how it counts the 50 requests per second per bot token, so the
mock offers three models (sliding 1-s log, fixed 1-s window, GCRA). The model decides what
a client that has no proactive global limiter sees when it fires 60 sends at once (one to
each of 60 users' DMs, so only the global limit binds): how many global 429s, how long it
takes, whether every message arrives. Every 429 counts toward Cloudflare's invalid-request
ban, so this table is what a user reads before choosing a model (docs/real-clients.md).

All figures are the mock's: its ledger (429s on the message route, arrival times), its
stored messages and `/_mock/stats` (`peak_1s`). Each cell is the median of `--repeat`
runs, with the range in brackets; every run uses a fresh mock and a fresh client.

discord.js (@discordjs/rest) runs as a node subprocess if `DISCORDJS_REST_DIR` names a
folder where `npm install @discordjs/rest` was run (outside the repo); otherwise its rows
are skipped with a note.

    .venv/bin/python -m benchmarks.bench_real_clients [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
from collections.abc import Sequence
from pathlib import Path

from tests.mockdiscord.realclients import (
    BurstReport,
    RunningMock,
    burst_many_channels,
    driver,
    make_profile,
    measure,
    prepare_many_channels,
    quiet_client_loggers,
    serve_mock,
)

ALGORITHMS = ("sliding", "fixed", "gcra")
PY_LIBRARIES = ("discord.py", "hikari")
BURST = 60

# Sends one warm-up message, says "ready", waits for "go" on stdin, then fires one send
# per channel at once and prints one JSON line: per send, null or the error's message.
DISCORDJS_SCRIPT = r"""
const { REST } = require("@discordjs/rest");
const [api, token, warm, ...channels] = process.argv.slice(2);
const rest = new REST({ api, version: "10", retries: 3 }).setToken(token);
const send = (id, content) => rest.post(`/channels/${id}/messages`, { body: { content } });
(async () => {
  await send(warm, "warm-up");
  process.stdout.write("ready\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  const outcomes = await Promise.all(
    channels.map((id, i) => send(id, `hello ${i}`).then(() => null, (e) => String(e))),
  );
  process.stdout.write(JSON.stringify(outcomes) + "\n");
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e) + "\n"); process.exit(1); });
"""


def discordjs_dir() -> Path | None:
    """The folder with node_modules/@discordjs/rest, or None when it cannot run here."""
    raw = os.environ.get("DISCORDJS_REST_DIR")
    if not raw or shutil.which("node") is None:
        return None
    folder = Path(raw)
    return folder if (folder / "node_modules" / "@discordjs" / "rest").is_dir() else None


async def _discordjs_burst(mock: RunningMock, folder: Path) -> BurstReport:
    script = folder / "burst.js"
    script.write_text(DISCORDJS_SCRIPT, encoding="utf-8")
    warm, channels = await prepare_many_channels(mock, BURST)
    process = await asyncio.create_subprocess_exec(
        "node",
        str(script),
        f"{mock.base_url}/api",
        mock.bot_token,
        warm,
        *channels,
        cwd=folder,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        ready = await asyncio.wait_for(process.stdout.readline(), 30)
        if ready.strip() != b"ready":
            raise RuntimeError(f"discord.js did not start: {ready!r}")

        async def fire() -> Sequence[object]:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), 120)
            return [None if o is None else RuntimeError(o) for o in json.loads(line)]

        return await measure(mock, channels, BURST, fire)
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def _one_run(library: str, algorithm: str, js_folder: Path | None) -> BurstReport:
    async with serve_mock(make_profile(global_algorithm=algorithm)) as mock:
        if library == "discord.js":
            assert js_folder is not None
            return await _discordjs_burst(mock, js_folder)
        async with driver(library, mock) as client:
            return await burst_many_channels(mock, client, BURST)


def _cell(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    median = fmt.format(statistics.median(values))
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return median if low == high else f"{median} ({low}-{high})"


async def run(repeat: int) -> str:
    js_folder = discordjs_dir()
    libraries = [*PY_LIBRARIES, *(["discord.js"] if js_folder else [])]
    lines = [
        f"60 concurrent sends to 60 DM channels, global limit 50/s; median of {repeat} runs"
        " (range).",
        "",
        "| client | global algorithm | global 429s | requests seen | total time (s) "
        "| delivered | failed sends | peak_1s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with quiet_client_loggers():
        for library in libraries:
            for algorithm in ALGORITHMS:
                runs = [await _one_run(library, algorithm, js_folder) for _ in range(repeat)]
                lines.append(
                    "| "
                    + " | ".join(
                        [
                            library,
                            algorithm,
                            _cell([r.rate_limited["global"] for r in runs]),
                            _cell([r.requests for r in runs]),
                            _cell([r.seconds for r in runs], "{:.2f}"),
                            _cell([r.delivered for r in runs]) + f"/{BURST}",
                            _cell([r.failed for r in runs]),
                            _cell([r.peak_1s for r in runs]),
                        ]
                    )
                    + " |"
                )
    if js_folder is None:
        lines += [
            "",
            "discord.js rows skipped: set DISCORDJS_REST_DIR to a folder where "
            "`npm install @discordjs/rest` was run (and have node on PATH).",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    args = parser.parse_args([] if argv is None else argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(asyncio.run(run(args.repeat)), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
