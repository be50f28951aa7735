"""What the keyring looks like from here: a state, the backend in use, and why in words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class KeyringState(Enum):
    """Why the keyring can or cannot be used."""

    AVAILABLE = "available"
    NO_SESSION_BUS = "no-session-bus"
    NO_SECRET_SERVICE = "no-secret-service"
    NO_BACKEND = "no-backend"
    DISABLED = "disabled"
    LOCKED = "locked"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """The keyring as the console found it.

    Attributes:
        state: Available, or the reason it is not.
        backend: The keyring backend's class path (``keyring.backends.SecretService.Keyring``),
            or ``None`` when none could be chosen.
        explanation: Plain words for people when unavailable (what is missing and what to do);
            when available, an optional caution (e.g. a backend that is not recommended).
    """

    state: KeyringState
    backend: str | None
    explanation: str | None = None

    @property
    def available(self) -> bool:
        """Whether secrets can be stored and read."""
        return self.state is KeyringState.AVAILABLE

    def as_dict(self) -> dict[str, str | bool | None]:
        """The status as JSON-ready data."""
        return {
            "available": self.available,
            "state": self.state.value,
            "backend": self.backend,
            "explanation": self.explanation,
        }
