"""Checks against the outside world: http/https, tcp, Prometheus, scrape, Nagios and log files.

Probes never raise for a failing target: every failure is a ProbeResult with a reason. They
import only console.core; the engine owns the aiohttp session and the schedule.
"""
