"""Reading a certificate's expiry from DER, checked against the cryptography package."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest
from console.probes.tls import client_context, days_left, not_after
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st


@cache
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def der_certificate(expires: datetime, *, serial: int = 1, long_name: bool = False) -> bytes:
    # A long subject pushes the lengths past 127 bytes, into DER's long form.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "n" * (60 if long_name else 4))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key().public_key())
        .serial_number(serial)
        .not_valid_before(datetime(1950, 1, 1, tzinfo=UTC))
        .not_valid_after(expires)
        .sign(key(), hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


moments = st.datetimes(
    min_value=datetime(1950, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))


@settings(max_examples=60, deadline=None)
@given(moments, st.integers(1, 2**159 - 1), st.booleans())
def test_not_after_agrees_with_cryptography(expires: datetime, serial: int, long: bool) -> None:
    # Years before 2050 are encoded as UTCTime, later ones as GeneralizedTime (RFC 5280).
    der = der_certificate(expires, serial=serial, long_name=long)
    assert not_after(der) == x509.load_der_x509_certificate(der).not_valid_after_utc == expires


@pytest.mark.parametrize(
    "expires",
    [datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2050, 1, 1, tzinfo=UTC)],
)
def test_the_utctime_century_boundary(expires: datetime) -> None:
    assert not_after(der_certificate(expires)) == expires


def test_days_left_is_fractional_and_negative_once_expired() -> None:
    der = der_certificate(datetime(2030, 1, 11, 12, tzinfo=UTC))
    assert days_left(der, datetime(2030, 1, 1, tzinfo=UTC)) == 10.5
    assert days_left(der, datetime(2030, 1, 12, 12, tzinfo=UTC)) == -1.0


@pytest.mark.parametrize(
    "der", [b"", b"\x30", b"\x30\x82\xff\xff", b"\x02\x01\x00", b"\x30\x03\x02\x01\x00"]
)
def test_bytes_that_are_not_a_certificate(der: bytes) -> None:
    with pytest.raises(ValueError):
        not_after(der)


def test_a_truncated_certificate() -> None:
    der = der_certificate(datetime(2031, 5, 5, tzinfo=UTC))
    for cut in range(0, len(der) - 1, 7):
        with pytest.raises(ValueError):
            not_after(der[:cut])


def test_client_contexts_are_shared_and_verify_as_asked() -> None:
    assert client_context(True, None) is client_context(True, None)
    assert client_context(False, None).verify_mode.name == "CERT_NONE"
    assert client_context(True, None).check_hostname
