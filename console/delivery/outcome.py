"""What one delivery attempt came to: sent, failed for good, or worth another try."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class DeliveryStatus(Enum):
    """The result of one attempt (or, from `console.delivery.retry.deliver`, of all of them)."""

    SENT = "sent"
    FAILED = "failed"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt's result.

    Attributes:
        status: SENT; RETRY for a transient failure (a timeout, a refused connection, HTTP 5xx
            or 429, an SMTP 4xx reply); FAILED for one that another try will not mend.
        detail: What happened, in words for the timeline (never a secret).
        permanent: The failure is of a kind that retrying cannot fix (another 4xx, an SMTP 5xx,
            bad credentials, a missing secret, a configuration error).
    """

    status: DeliveryStatus
    detail: str
    permanent: bool = False

    @property
    def sent(self) -> bool:
        """Whether the message was accepted by the receiving side."""
        return self.status is DeliveryStatus.SENT


def sent(detail: str) -> Outcome:
    """Accepted by the receiving side."""
    return Outcome(DeliveryStatus.SENT, detail, False)


def transient(detail: str) -> Outcome:
    """Failed this time; another try may succeed."""
    return Outcome(DeliveryStatus.RETRY, detail, False)


def permanent(detail: str) -> Outcome:
    """Failed in a way another try will not mend."""
    return Outcome(DeliveryStatus.FAILED, detail, True)
