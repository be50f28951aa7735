"""The secrets package's exceptions: every one a user can act on, none carrying a secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.core.errors import ConsoleError

if TYPE_CHECKING:
    from console.secrets.status import KeyringStatus


class SecretsError(ConsoleError):
    """Base of the errors raised by ``console.secrets``; messages never hold a secret value."""


class SecretsUnavailable(SecretsError):
    """No usable keyring: the message says why in plain words and what to do about it.

    Attributes:
        status: What was found (state, backend and the explanation).
    """

    def __init__(self, status: KeyringStatus) -> None:
        self.status = status
        super().__init__(f"no usable keyring: {status.explanation}")


class InvalidSecretName(SecretsError):
    """A secret name that breaks the naming rule (or is reserved)."""


class InvalidSecretValue(SecretsError):
    """A value that cannot be stored (empty, too long, not text)."""


class UnknownSecret(SecretsError):
    """A name that the keyring does not hold."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no secret named {name!r} in the keyring")


class TokenFileRefused(SecretsError):
    """A token file that is missing, unsafe (readable by others) or malformed."""
