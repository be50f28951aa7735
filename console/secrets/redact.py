"""Keeping secret values out of text: a redactor for messages and a filter for log records."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"


class Redactor:
    """Replaces every known secret value in a string by ``***``.

    Each value is also known in the forms it takes when software prints it: escaped as in
    JSON or ``repr`` (a value with a newline or quote), percent-encoded (in a URL) and
    base64-encoded (in an ``Authorization`` header). Safe to share between threads.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Remember a secret value (an empty one is ignored: there is nothing to hide)."""
        if secret:
            self._extend(_forms(secret))

    def add_basic_auth(self, user: str, password: str) -> None:
        """Remember a password and the base64 ``user:password`` that HTTP basic auth sends."""
        self.add(password)
        if password:
            self._extend({_b64(f"{user}:{password}")})

    def redact(self, text: str) -> str:
        """``text`` with every known secret (in any known form) replaced by ``***``."""
        pattern = self._pattern  # one read: a concurrent ``add`` swaps in a whole new pattern
        return text if pattern is None else pattern.sub(MASK, text)

    def _extend(self, forms: set[str]) -> None:
        with self._lock:
            if forms <= self._known:
                return
            self._known |= forms
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(self._known, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))


def _forms(secret: str) -> set[str]:
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret),
        _b64(secret),
    }
    return {f for f in forms if f}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in a record's message, traceback and stack.

    Attach it to handlers (``install_log_redaction``): a filter on a logger does not see
    records that propagate from its children. It never drops a record.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place with its secrets masked; always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: let the handler report it as logging does
            return True
        clean = self.redactor.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        return True


_default = Redactor()


def default_redactor() -> Redactor:
    """The process-wide redactor: every value read or stored through ``console.secrets``."""
    return _default


def install_log_redaction(
    redactor: Redactor | None = None, logger: logging.Logger | None = None
) -> RedactingFilter:
    """Mask secrets in everything ``logger``'s handlers emit (the root logger by default).

    Idempotent: a handler that already has a redacting filter is left alone.

    Returns:
        The filter, also for handlers added later.
    """
    target = logger or logging.getLogger()
    log_filter = RedactingFilter(_default if redactor is None else redactor)
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(log_filter)
    return log_filter
