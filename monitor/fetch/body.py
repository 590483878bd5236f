"""Read a response body with a cap counted after decompression, so a gzip bomb is cut off.

An HTTP client library would inflate a whole network chunk at once (a 64 KiB chunk of a
bomb is gigabytes), so monitor takes the raw bytes and inflates them itself, never more
than the cap allows.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, Mapping

from monitor.errors import FetchError, ResponseTooLarge
from monitor.units import counted

ACCEPT_ENCODING = "gzip, deflate"


class _Inflater:
    def __init__(self, encoding: str) -> None:
        # 47 = auto-detect gzip or zlib header; deflate without a header is retried raw.
        self._encoding = encoding
        self._obj = zlib.decompressobj(47 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS)
        self._first = True

    def feed(self, data: bytes, limit: int) -> bytes:
        try:
            out = self._obj.decompress(data, limit)
        except zlib.error as exc:
            if not (self._first and self._encoding == "deflate"):
                raise FetchError(f"corrupt {self._encoding} body: {exc}") from exc
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
            out = self._obj.decompress(data, limit)
        self._first = False
        if self._obj.unconsumed_tail:
            raise ResponseTooLarge("")  # more output than the cap allows
        return out


async def read_capped(headers: Mapping[str, str], raw: AsyncIterable[bytes], cap: int) -> bytes:
    """The decoded body of ``raw`` (as sent, with lower-case ``headers``); ResponseTooLarge
    as soon as it would exceed ``cap`` bytes."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise FetchError(f"unsupported content-encoding {encoding!r}")
    inflater = None if encoding in ("identity", "") else _Inflater(encoding)
    if inflater is None and _declared_length(headers) > cap:
        raise ResponseTooLarge(_too_large(cap))
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in raw:
            data = chunk if inflater is None else inflater.feed(chunk, cap - size + 1)
            size += len(data)
            if size > cap:
                raise ResponseTooLarge(_too_large(cap))
            parts.append(data)
    except ResponseTooLarge:
        raise ResponseTooLarge(_too_large(cap)) from None
    return b"".join(parts)


def _declared_length(headers: Mapping[str, str]) -> int:
    value = headers.get("content-length", "").split(",", 1)[0].strip()
    return int(value) if value.isdigit() else 0


def _too_large(cap: int) -> str:
    cap_text = counted(cap, "byte")
    return f"response body larger than {cap_text} after decompression (fetch.max_body_size)"
