"""Fetching a linked image before it is uploaded: size-capped, images only, public hosts only.

The engine only lets a schedule post an http(s) link or a file from the media folder
(`bot.features.schedule.images`); this is the definitive check of a link, made when it is
fetched: the answer must be 200 with an ``image/png``, ``jpeg``, ``gif`` or ``webp`` type whose
first bytes agree, at most `max_bytes` long. Unless private addresses are allowed, every host
(also after a redirect) must resolve to public addresses only, and the connection goes to the
addresses checked — so a link cannot make Hearth read this machine or its network.
aiohttp comes with discord.py, so both adapters use it.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.config import ScheduleSettings
from bot.features.schedule.images import image_kind, is_public_address

__all__ = ["FetchedImage", "ImageFetchError", "ImageFetcher"]

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 5
TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_SUFFIX = {"png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


class ImageFetchError(Exception):
    """A linked image Hearth will not post; the message says why (for the run's record)."""


class _PrivateAddress(OSError):
    """A host that resolves to a loopback, private or otherwise non-public address."""


@dataclass(frozen=True, slots=True)
class FetchedImage:
    """A fetched image: its bytes and a file name to upload it under."""

    data: bytes
    filename: str


class _PublicResolver(AbstractResolver):
    """Resolves names as usual, refusing any that resolve to a non-public address."""

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        private = [r["host"] for r in found if not is_public_address(r["host"])]
        if private:
            raise _PrivateAddress(f"{host} resolves to a non-public address ({private[0]})")
        return found

    async def close(self) -> None:
        await self._resolver.close()


class ImageFetcher:
    """Fetches linked images for upload under the [schedule] limits."""

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allow_private: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: ScheduleSettings) -> ImageFetcher:
        """The fetcher `schedule.max_image_bytes` and `allow_private_urls` describe."""
        return cls(max_bytes=settings.max_image_bytes, allow_private=settings.allow_private_urls)

    async def fetch(self, url: str) -> FetchedImage:
        """Download the image at `url` (following up to five redirects).

        Raises:
            ImageFetchError: not an http(s) link to a public host, not 200, not an image,
                larger than `max_bytes`, or the download failed.
        """
        resolver = None if self.allow_private else _PublicResolver()
        connector = aiohttp.TCPConnector(resolver=resolver)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            try:
                return await self._follow(session, url)
            except aiohttp.ClientConnectorError as error:
                if isinstance(error.os_error, _PrivateAddress):
                    raise ImageFetchError(f"{url}: {error.os_error}") from None
                raise ImageFetchError(f"{url}: cannot connect: {error}") from None
            except (aiohttp.ClientError, TimeoutError) as error:
                raise ImageFetchError(f"{url}: {type(error).__name__}: {error}") from None

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ImageFetchError(f"{url}: not an http(s) link")
        if self.allow_private:
            return
        host = parts.hostname.rstrip(".")
        try:
            public = is_public_address(host)
        except ValueError:  # a name: the resolver checks what it resolves to
            return
        if not public:
            raise ImageFetchError(f"{url}: {host} is not a public address")

    async def _follow(self, session: aiohttp.ClientSession, url: str) -> FetchedImage:
        for _ in range(MAX_REDIRECTS + 1):
            self._check_url(url)
            async with session.get(url, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status in (301, 302, 303, 307, 308) and location:
                    url = urljoin(url, location)
                    continue
                return await self._read(url, response)
        raise ImageFetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    async def _read(self, url: str, response: aiohttp.ClientResponse) -> FetchedImage:
        if response.status != 200:
            raise ImageFetchError(f"{url}: HTTP {response.status}")
        kind = TYPES.get(response.content_type.lower())
        if kind is None:
            raise ImageFetchError(
                f"{url}: served {response.content_type or 'no type'}, not a PNG, JPEG, GIF "
                "or WebP image"
            )
        limit = self.max_bytes
        if response.content_length is not None and response.content_length > limit:
            raise ImageFetchError(f"{url}: {response.content_length} bytes, over {limit}")
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                raise ImageFetchError(f"{url}: more than {limit} bytes")
        if image_kind(bytes(data[:16])) != kind:
            raise ImageFetchError(f"{url}: the content is not the {kind} image it claims")
        stem = _UNSAFE.sub("", PurePosixPath(urlsplit(url).path).stem)[:64] or "image"
        return FetchedImage(bytes(data), stem + _SUFFIX[kind])
