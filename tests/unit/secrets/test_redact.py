"""Secrets are masked in messages and log records, in every form software prints them."""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from console.secrets import RedactingFilter, Redactor, install_log_redaction
from console.secrets.redact import MASK

SECRET = "s3cr3t-Tök€n\n'line2\""


def test_masks_every_occurrence_and_leaves_the_rest() -> None:
    redactor = Redactor(["hunter2"])
    text = "login hunter2 failed; retry with hunter2?"
    assert redactor.redact(text) == "login *** failed; retry with ***?"
    assert redactor.redact("nothing to hide") == "nothing to hide"


def test_masks_the_forms_a_value_takes_when_printed() -> None:
    redactor = Redactor([SECRET])
    printed = [
        f"raw {SECRET} end",
        f"json {json.dumps({'token': SECRET})} end",
        f"ascii json {json.dumps(SECRET, ensure_ascii=True)} end",
        f"repr {SECRET!r} end",
        f"url https://h/?t={quote(SECRET, safe='')} end",
        f"b64 {base64.b64encode(SECRET.encode()).decode()} end",
    ]
    for text in printed:
        clean = redactor.redact(text)
        assert MASK in clean, text
        assert "s3cr3t" not in clean and "czNjcjN0" not in clean, clean
        assert clean.endswith(" end") and clean.split()[0] == text.split()[0]


def test_basic_auth_header_is_masked() -> None:
    redactor = Redactor()
    redactor.add_basic_auth("alice", "pa55")
    header = "Authorization: Basic " + base64.b64encode(b"alice:pa55").decode()
    assert redactor.redact(header) == "Authorization: Basic ***"
    assert redactor.redact("password pa55") == "password ***"


def test_a_secret_containing_another_is_masked_whole() -> None:
    redactor = Redactor(["abc", "xxabcxx"])
    assert redactor.redact("[xxabcxx] [abc]") == "[***] [***]"


def test_empty_values_are_ignored_and_nothing_known_changes_nothing() -> None:
    redactor = Redactor([""])
    assert redactor.redact("a b c") == "a b c"
    redactor.add("b")
    assert redactor.redact("a b c") == "a *** c"


def test_adding_from_threads_while_redacting_loses_nothing() -> None:
    redactor = Redactor()
    values = [f"token-{i:03d}-value" for i in range(200)]

    def add(chunk: list[str]) -> None:
        for value in chunk:
            redactor.add(value)
            assert value not in redactor.redact(f"x {value} y")

    threads = [threading.Thread(target=add, args=(values[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert redactor.redact(" ".join(values)) == " ".join([MASK] * len(values))


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, Redactor]]:
    """A real logger -> handler -> stream chain with a redacting filter on the handler."""
    redactor = Redactor()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    parent = logging.getLogger("test_redact_parent")
    parent.addHandler(handler)
    parent.setLevel(logging.DEBUG)
    install_log_redaction(redactor, parent)
    try:
        # A child logger: its records reach the filter only because it sits on the handler.
        yield logging.getLogger("test_redact_parent.child"), stream, redactor
    finally:
        parent.removeHandler(handler)


def test_log_messages_and_arguments_are_masked(
    captured: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    log, stream, redactor = captured
    redactor.add(SECRET)
    log.warning("probe failed with header %s and %d retries", SECRET, 3)
    out = stream.getvalue()
    assert "probe failed with header *** and 3 retries" in out
    assert "s3cr3t" not in out


def test_a_failing_operation_logged_with_its_traceback_leaks_nothing(
    captured: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    log, stream, redactor = captured
    redactor.add("98765-not-a-number")
    try:
        int("98765-not-a-number")  # ValueError quotes its input in the message
    except ValueError:
        log.exception("parsing the token failed")
    out = stream.getvalue()
    assert "Traceback" in out and "ValueError: invalid literal" in out
    assert "98765" not in out and MASK in out


def test_stack_info_is_masked(captured: tuple[logging.Logger, io.StringIO, Redactor]) -> None:
    log, stream, redactor = captured
    redactor.add("stack-secret-value")
    log.info("marker", stack_info=True)  # stack-secret-value: printed with this source line
    out = stream.getvalue()
    assert "Stack (most recent call last)" in out and "marker" in out
    assert "stack-secret-value" not in out and "# ***: printed" in out


def test_installing_twice_adds_one_filter(
    captured: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    log, _stream, redactor = captured
    parent = log.parent
    assert parent is not None
    install_log_redaction(redactor, parent)
    for handler in parent.handlers:
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1


def test_a_malformed_log_call_is_left_for_logging_to_report() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d", ("not a number",), None)
    assert RedactingFilter(Redactor(["x"])).filter(record) is True
    assert record.args == ("not a number",)
