"""A simulated production estate for the demo: a pure model and a small loopback web server.

model.py holds the deterministic model (metrics, health, incidents as functions of time);
server.py serves it as ``/metrics`` and ``/health/<service>``; backfill.py turns it into
history. Imports console.core only, plus aiohttp and numpy.
"""
