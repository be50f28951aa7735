"""Peer certificates: the expiry read from DER bytes, and a handshake that fetches them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from datetime import UTC, datetime

_SEQUENCE = 0x30
_INTEGER = 0x02
_EXPLICIT_0 = 0xA0
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18


def not_after(der: bytes) -> datetime:
    """The end of an X.509 certificate's validity, from its DER encoding.

    Only the path to ``tbsCertificate.validity.notAfter`` is walked, so this works for
    certificates that were not verified (``getpeercert()`` returns nothing for those).

    Raises:
        ValueError: When the bytes are not a certificate.
    """
    _, certificate, _ = _expect(der, 0, _SEQUENCE)
    _, pos, _ = _expect(der, certificate, _SEQUENCE)
    tag, _, end = _element(der, pos)
    if tag == _EXPLICIT_0:  # version, absent in v1 certificates
        pos = end
    for tag in (_INTEGER, _SEQUENCE, _SEQUENCE):  # serial number, signature algorithm, issuer
        _, _, pos = _expect(der, pos, tag)
    _, validity, _ = _expect(der, pos, _SEQUENCE)
    _, _, pos = _element(der, validity)  # notBefore
    tag, start, end = _element(der, pos)
    return _parse_time(tag, der[start:end])


def days_left(der: bytes, now: datetime) -> float:
    """Days (fractional, negative once expired) from now until the certificate expires."""
    return (not_after(der) - now).total_seconds() / 86400


@functools.lru_cache(maxsize=32)
def client_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """A client TLS context; contexts are costly to build, so they are shared."""
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_file)


def transport_certificate(transport: asyncio.BaseTransport | None) -> bytes | None:
    """The DER certificate of a TLS transport's peer, or None for plain or closed ones."""
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    return ssl_object.getpeercert(binary_form=True)


async def fetch_certificate(host: str, port: int, context: ssl.SSLContext) -> bytes | None:
    """Open a TLS connection only to read the peer's certificate, then close it.

    Raises:
        OSError: When the connection or the handshake fails (ssl.SSLError is an OSError).
    """
    _, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        return transport_certificate(writer.transport)
    finally:
        writer.close()
        # A peer that ignores close_notify must not turn a finished check into an error.
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at pos."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER element")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("DER element runs past the end")
    return tag, pos, pos + length


def _expect(data: bytes, pos: int, tag: int) -> tuple[int, int, int]:
    found = _element(data, pos)
    if found[0] != tag:
        raise ValueError(f"expected DER tag {tag:#x} at {pos}, found {found[0]:#x}")
    return found


def _parse_time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii", errors="replace")
    if not text.endswith("Z") or not text[:-1].isdigit():
        raise ValueError(f"unsupported certificate time {text!r}")
    if tag == _UTC_TIME and len(text) == 13:
        two_digits = int(text[:2])
        # RFC 5280: UTCTime years 50-99 are 19xx, 00-49 are 20xx.
        year, rest = (1900 if two_digits >= 50 else 2000) + two_digits, text[2:]
    elif tag == _GENERALIZED_TIME and len(text) == 15:
        year, rest = int(text[:4]), text[4:]
    else:
        raise ValueError(f"unsupported certificate time {text!r}")
    month, day, hour, minute, second = (int(rest[i : i + 2]) for i in range(0, 10, 2))
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
