"""Delivery: getting word of an incident to people (desktop notifications, email, webhooks).

An integration beside probes and secrets: it may use jeepney, plyer and aiohttp, never Qt or the
store. Callers hand it small records (`console.delivery.desktop.Notice` for the desktop,
`console.core.notices.Notice` for email and webhooks) and get back what happened (`Delivery`,
`console.delivery.outcome.Outcome`), failures included: nothing here is swallowed.
"""
