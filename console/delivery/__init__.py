"""Delivery: getting word of an incident to people (desktop notifications; later email, webhooks).

An integration beside probes and secrets: it may use jeepney, plyer and aiohttp, never Qt or the
store. Callers hand it small records (`console.delivery.desktop.Notice`) and get back what
happened (`Delivery`), failures included: nothing here is swallowed.
"""
