"""The mock's CDN: files that fake players upload with a command, served back to the bot.

On Discord, an ATTACHMENT option arrives as an id; the interaction's `resolved.attachments`
gives the file's `url` on cdn.discordapp.com, and the bot downloads it from there. The mock
keeps the uploaded bytes in memory and serves them at
`/_mock/cdn/attachments/{channel_id}/{attachment_id}/{filename}`, so a bot that downloads a
replay does a real HTTP GET, as it would in production.

Memory is bounded: past `max_total_bytes` the oldest files are forgotten (a later GET
answers 404, as an expired CDN link would).
"""

from __future__ import annotations

import mimetypes
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = ["CDN_PREFIX", "CdnStore", "StoredFile"]

CDN_PREFIX = "/_mock/cdn/attachments"


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    channel_id: str
    filename: str
    content: bytes
    content_type: str

    @property
    def path(self) -> str:
        return f"{CDN_PREFIX}/{self.channel_id}/{self.id}/{quote(self.filename)}"

    def attachment_object(self, base_url: str) -> dict[str, Any]:
        """Discord's attachment object, with `url` pointing at this mock."""
        url = base_url.rstrip("/") + self.path
        return {
            "id": self.id,
            "filename": self.filename,
            "size": len(self.content),
            "url": url,
            "proxy_url": url,
            "content_type": self.content_type,
        }


class CdnStore:
    """In-memory files keyed by (channel id, attachment id), oldest evicted first."""

    def __init__(self, max_total_bytes: int = 256 * 1024 * 1024) -> None:
        self._files: OrderedDict[tuple[str, str], StoredFile] = OrderedDict()
        self._total = 0
        self._max_total = max_total_bytes

    def put(self, channel_id: str, attachment_id: str, filename: str, content: bytes) -> StoredFile:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = StoredFile(attachment_id, channel_id, filename, content, content_type)
        self._files[(channel_id, attachment_id)] = stored
        self._total += len(content)
        while self._total > self._max_total and len(self._files) > 1:
            _, evicted = self._files.popitem(last=False)
            self._total -= len(evicted.content)
        return stored

    def get(self, channel_id: str, attachment_id: str, filename: str) -> StoredFile | None:
        stored = self._files.get((channel_id, attachment_id))
        if stored is None or stored.filename != filename:
            return None
        return stored

    def clear(self) -> None:
        self._files.clear()
        self._total = 0

    @property
    def total_bytes(self) -> int:
        return self._total
