"""Named secrets in the OS keyring, under the service ``oncall-console``."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from typing import TypeVar

from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, NoKeyringError, PasswordDeleteError

from console.secrets.backends import BackendChoice, describe, diagnose, select_backend
from console.secrets.errors import (
    InvalidSecretName,
    InvalidSecretValue,
    SecretsUnavailable,
    UnknownSecret,
)
from console.secrets.redact import Redactor, default_redactor
from console.secrets.status import KeyringState, KeyringStatus

log = logging.getLogger(__name__)

SERVICE = "oncall-console"
# keyring cannot enumerate entries, so the names (never the values) are kept in an entry of
# their own. Its name cannot be a secret's: secret names start with a letter or digit.
INDEX_ENTRY = "__index__"
NAME_RULE = (
    "1 to 128 characters: letters, digits and . _ - / @ : +, starting with a letter or digit"
)
MAX_VALUE_CHARS = 65536
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/@:+-]{0,127}")
LOCKED = (
    "the keyring is locked and was not unlocked; unlock it (log in to the desktop session or "
    "open the keyring application) and try again"
)

T = TypeVar("T")


def check_name(name: str) -> None:
    """Refuse a name that breaks the naming rule.

    Raises:
        InvalidSecretName: With the rule in words.
    """
    if not _NAME.fullmatch(name):
        raise InvalidSecretName(f"invalid secret name {name!r}: expected {NAME_RULE}")


def check_value(value: str) -> None:
    """Refuse a value that cannot be stored; the message never quotes the value.

    Raises:
        InvalidSecretValue: Empty, longer than 64 Ki characters, or not encodable as UTF-8.
    """
    if not value:
        raise InvalidSecretValue("the secret's value is empty")
    if len(value) > MAX_VALUE_CHARS:
        raise InvalidSecretValue(f"the secret's value is longer than {MAX_VALUE_CHARS} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSecretValue("the secret's value is not valid text") from None


class SecretStore:
    """Secrets by name in the OS keyring; a clear error, never a plaintext fallback, without one.

    The backend is chosen on first use (``select_backend``: a configured backend, else the
    Secret Service on the current session bus, else another recommended backend) and chosen
    again after a failure, so a keyring started later is found. Every value read or stored
    is taught to the redactor, which masks it in messages and logs.

    Two processes that store *different* new names at the same instant may both rewrite the
    list of names and one name can go missing from ``names()`` (its value stays readable);
    storing it again repairs the list.

    Args:
        backend: A keyring backend to use instead of choosing one (a test's, or keyring's
            ``fail`` backend).
        service: The keyring service the entries are filed under.
        redactor: Where values are registered (the process-wide redactor by default).
    """

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        service: str = SERVICE,
        redactor: Redactor | None = None,
    ) -> None:
        self.service = service
        self._given = backend
        self._redactor = default_redactor() if redactor is None else redactor
        self._choice: BackendChoice | None = None

    def backend_status(self) -> KeyringStatus:
        """The keyring's status, checked by reading this store's list of names."""
        try:
            self._call(lambda b: b.get_password(self.service, INDEX_ENTRY))
        except SecretsUnavailable as exc:
            return exc.status
        return self._chosen().status

    def get(self, name: str) -> str | None:
        """The value stored under ``name``, or ``None`` if there is none.

        Raises:
            InvalidSecretName: A malformed name.
            SecretsUnavailable: No usable keyring (the message says why).
        """
        check_name(name)
        value = self._call(lambda b: b.get_password(self.service, name))
        if value is not None:
            self._redactor.add(value)
        return value

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``, replacing what was there.

        Raises:
            InvalidSecretName: A malformed name.
            InvalidSecretValue: An empty, huge or non-text value.
            SecretsUnavailable: No usable keyring; nothing was written anywhere.
        """
        check_name(name)
        check_value(value)
        # Known before the backend sees it, so an error quoting it is masked too.
        self._redactor.add(value)
        self._call(lambda b: b.set_password(self.service, name, value))
        self._update_names(add=name)

    def delete(self, name: str) -> None:
        """Remove the secret ``name``.

        Raises:
            InvalidSecretName: A malformed name.
            UnknownSecret: The keyring holds no such secret.
            SecretsUnavailable: No usable keyring.
        """
        check_name(name)

        def remove(backend: KeyringBackend) -> bool:
            try:
                backend.delete_password(self.service, name)
            except PasswordDeleteError:
                return False
            return True

        deleted = self._call(remove)
        listed = self._update_names(remove=name)
        if not (deleted or listed):
            raise UnknownSecret(name)

    def names(self) -> list[str]:
        """The names of the stored secrets, sorted (never their values).

        Raises:
            SecretsUnavailable: No usable keyring.
        """
        raw = self._call(lambda b: b.get_password(self.service, INDEX_ENTRY))
        return _parse_names(raw)

    def refresh(self) -> None:
        """Choose the backend again on next use (e.g. after the user started a keyring)."""
        self._choice = None

    def _update_names(self, *, add: str | None = None, remove: str | None = None) -> bool:
        """Add or remove a name in the list; returns whether ``remove`` was listed."""
        names = set(self.names())
        listed = remove in names
        updated = (names | {add} if add else names) - {remove}
        if updated != names:
            text = json.dumps({"version": 1, "names": sorted(updated)})
            self._call(lambda b: b.set_password(self.service, INDEX_ENTRY, text))
        return listed

    def _chosen(self) -> BackendChoice:
        if self._choice is None:
            given = self._given
            self._choice = select_backend() if given is None else describe(given)
        return self._choice

    def _call(self, operation: Callable[[KeyringBackend], T]) -> T:
        choice = self._chosen()
        if choice.backend is None:
            self.refresh()
            raise SecretsUnavailable(choice.status)
        try:
            return operation(choice.backend)
        except _backend_errors() as exc:
            _close_abandoned_connections(exc)
            self.refresh()
            # ``from None``: a backend's own exception might quote a value; ours never does.
            raise SecretsUnavailable(self._failure(exc, choice)) from None

    def _failure(self, exc: BaseException, choice: BackendChoice) -> KeyringStatus:
        """Why an operation failed, in words (with any secret in the backend's text masked)."""
        name = choice.status.backend
        if isinstance(exc, KeyringLocked):
            return KeyringStatus(KeyringState.LOCKED, name, LOCKED)
        found = diagnose(None, backend=name)  # e.g. the Secret Service left the bus
        if found is not None:
            return found
        if isinstance(exc, NoKeyringError):
            return KeyringStatus(KeyringState.NO_BACKEND, name, "keyring has no usable backend")
        detail = self._redactor.redact(str(exc)) or type(exc).__name__
        return KeyringStatus(KeyringState.BROKEN, name, f"the keyring backend failed: {detail}")


def backend_status() -> KeyringStatus:
    """The status of the keyring the console would use now (chosen afresh, then probed)."""
    return SecretStore().backend_status()


def _parse_names(raw: str | None) -> list[str]:
    if raw is None:
        return []
    try:
        data = json.loads(raw)
        names = data["names"] if isinstance(data, dict) else None
        if not isinstance(names, list):
            raise ValueError("no list of names")
    except (ValueError, KeyError) as exc:
        log.warning("the list of secret names in the keyring is unreadable (%s); ignoring it", exc)
        return []
    return sorted({n for n in names if isinstance(n, str) and _NAME.fullmatch(n)})


def _close_abandoned_connections(exc: BaseException) -> None:
    """Close D-Bus connections that a failed backend call left open in its frames.

    keyring's Secret Service backend opens a connection before opening the collection and
    does not close it when that fails (the daemon left, the collection is locked); see
    jaraco/keyring#380. Closed here, an engine retrying against a missing keyring does not
    keep one socket per attempt alive for as long as the error is.
    """
    tb = exc.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if type(value).__name__ == "DBusConnection" and callable(getattr(value, "close", None)):
                value.close()
        tb = tb.tb_next


@functools.cache
def _backend_errors() -> tuple[type[BaseException], ...]:
    """What keyring backends raise when the keyring is missing, locked or went away."""
    errors: list[type[BaseException]] = [KeyringError, OSError, EOFError]
    try:
        from jeepney.wrappers import DBusErrorResponse

        errors.append(DBusErrorResponse)
    except ImportError:
        pass
    try:
        from secretstorage.exceptions import SecretStorageException

        errors.append(SecretStorageException)
    except ImportError:
        pass
    return tuple(errors)
