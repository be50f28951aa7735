"""Every configured channel in one place: which ones reach a person, and sending through one."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from console.core.notices import (
    ChannelKind,
    ChannelRef,
    DeliveryConfig,
    Notice,
    Recipient,
    channels_for,
)
from console.delivery.email import EmailChannel
from console.delivery.outcome import Outcome, permanent
from console.delivery.webhooks import WebhookChannel

SecretReader = Callable[[str], str | None]


class Channels:
    """The email channel and webhooks of a `DeliveryConfig`, ready to send.

    Args:
        config: The ``delivery:`` section.
        session: The engine's aiohttp session (webhooks share it).
        secrets: Reads keyring secrets by name (``SecretStore().get``).
    """

    def __init__(
        self, config: DeliveryConfig, session: aiohttp.ClientSession, secrets: SecretReader
    ) -> None:
        self.config = config
        self._email = None if config.smtp is None else EmailChannel(config.smtp, secrets)
        self._hooks = {w.key: WebhookChannel(w, session, secrets) for w in config.webhooks}

    def reaching(
        self, recipient: Recipient, team: str | None, urgent: bool
    ) -> tuple[ChannelRef, ...]:
        """The channels that reach ``recipient`` (see `console.core.notices.channels_for`)."""
        return channels_for(recipient, self.config, team, urgent)

    async def send(self, ref: ChannelRef, notice: Notice) -> Outcome:
        """Send ``notice`` through one channel; one not configured is a permanent failure."""
        if ref.kind is ChannelKind.EMAIL:
            if self._email is None:
                return permanent("email is not configured (no delivery.smtp section)")
            return await self._email.send(notice)
        hook = self._hooks.get(ref.key)
        if hook is None:
            return permanent(f"no webhook {ref.key!r} is configured")
        return await hook.send(notice)
