"""Credentials: the OS keyring (its only user), token files, and keeping secrets out of text.

Secrets are referenced by name everywhere else; their values live in the keyring under the
service ``oncall-console`` (or, on a headless machine without one, in a token file only its
owner can read) and are masked wherever text leaves the process.
"""

from console.secrets.errors import (
    InvalidSecretName,
    InvalidSecretValue,
    SecretsError,
    SecretsUnavailable,
    TokenFileRefused,
    UnknownSecret,
)
from console.secrets.redact import (
    RedactingFilter,
    Redactor,
    default_redactor,
    install_log_redaction,
)
from console.secrets.status import KeyringState, KeyringStatus
from console.secrets.store import SERVICE, SecretStore, backend_status
from console.secrets.tokens import read_token_file

__all__ = [
    "SERVICE",
    "InvalidSecretName",
    "InvalidSecretValue",
    "KeyringState",
    "KeyringStatus",
    "RedactingFilter",
    "Redactor",
    "SecretStore",
    "SecretsError",
    "SecretsUnavailable",
    "TokenFileRefused",
    "UnknownSecret",
    "backend_status",
    "default_redactor",
    "install_log_redaction",
    "read_token_file",
]
