"""The demo estate shipped with the application (resources/demo/estate.yaml).

Its endpoints point at the simulated estate, whose port is only known once it has started,
so the file names a placeholder base (`SIMULATOR_PLACEHOLDER`, under the reserved ``.invalid``
top-level domain, which never resolves) and `demo_estate` puts the real address in its place.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import console
from console.config.loader import load_file
from console.core.endpoints import Endpoint, HttpTarget, PrometheusTarget, ScrapeTarget, TcpTarget
from console.core.models import Estate
from console.core.notices import WebhookConfig

DEMO_FILE = Path("resources") / "demo" / "estate.yaml"
SIMULATOR_PLACEHOLDER = "http://simulator.demo.invalid"
_PLACEHOLDER_HOST = "simulator.demo.invalid"


def demo_path() -> Path:
    """Where the demo estate file is: beside the package, or inside a PyInstaller bundle."""
    candidates = [Path(console.__file__).resolve().parent.parent / DEMO_FILE]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        candidates.append(Path(bundle) / DEMO_FILE)
    return next((path for path in candidates if path.is_file()), candidates[0])


def demo_estate(simulator: str | None = None) -> Estate:
    """The demo estate, loaded and validated like any configuration file.

    Args:
        simulator: The simulated estate's base URL (``http://127.0.0.1:41234``); every demo
            endpoint aimed at the placeholder base is aimed there instead. None keeps the
            placeholders, as the file has them.

    Returns:
        The estate.

    Raises:
        ConfigError: If the file is missing or no longer valid.
        ValueError: If ``simulator`` is not an http(s) URL with a host and a port.
    """
    estate = load_file(demo_path())
    if simulator is None:
        return estate
    base = _checked_base(simulator)
    delivery = estate.delivery
    if delivery is not None:
        hooks = tuple(_aimed_hook(w, base) for w in delivery.webhooks)
        delivery = replace(delivery, webhooks=hooks)
    endpoints = tuple(_aimed(e, base) for e in estate.endpoints)
    return replace(estate, endpoints=endpoints, delivery=delivery)


def _aimed_hook(hook: WebhookConfig, base: str) -> WebhookConfig:
    """A webhook aimed at the placeholder (the simulated pager) is aimed at ``base``."""
    if hook.url == SIMULATOR_PLACEHOLDER or hook.url.startswith(SIMULATOR_PLACEHOLDER + "/"):
        return replace(hook, url=base + hook.url[len(SIMULATOR_PLACEHOLDER) :])
    return hook


def _checked_base(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in {"http", "https"} or not parts.hostname or port is None:
        raise ValueError(f"expected the simulator's base URL (http://127.0.0.1:PORT), got {url!r}")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError(f"the simulator's base URL has no path, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _aimed(endpoint: Endpoint, base: str) -> Endpoint:
    """The endpoint with the placeholder base replaced by ``base``; others are unchanged."""
    target = endpoint.target
    if isinstance(target, HttpTarget | ScrapeTarget | PrometheusTarget):
        if target.url == SIMULATOR_PLACEHOLDER or target.url.startswith(
            SIMULATOR_PLACEHOLDER + "/"
        ):
            url = base + target.url[len(SIMULATOR_PLACEHOLDER) :]
            return replace(endpoint, target=replace(target, url=url))
    elif isinstance(target, TcpTarget) and target.host == _PLACEHOLDER_HOST:
        parts = urlsplit(base)
        host, port = parts.hostname or "", parts.port or 0
        return replace(endpoint, target=TcpTarget(host, port))
    return endpoint
