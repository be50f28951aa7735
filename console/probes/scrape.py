"""The scrape probe: read a Prometheus/OpenMetrics ``/metrics`` page and extract named metrics.

Gauges become values; counters, and a histogram's or summary's ``_sum`` and ``_count``, become
per-second rates between two successive scrapes; histograms also give quantiles estimated from
the buckets that moved in the interval, as Prometheus's ``histogram_quantile`` over ``rate``
does. Rates need the previous scrape, which the caller keeps: each call takes the last
`ScrapeState` and returns the next one, so the probe itself holds nothing.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

import aiohttp

from console.core.clock import Clock
from console.probes.base import ProbeOutcome, ProbeResult, Stopwatch, redact, seconds_text
from console.probes.exposition import Family, PageError, Sample, bucket_quantile, parse_page
from console.probes.prometheus import (
    DEFAULT_BODY_CAP,
    Fetched,
    HttpAccess,
    check_url,
    fetch_capped,
    request_failure,
    series_name,
    size_text,
)

OPENMETRICS_TYPE = "application/openmetrics-text"
_ACCEPT_OPENMETRICS = f"{OPENMETRICS_TYPE};version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
_ACCEPT_TEXT = "text/plain;version=0.0.4,*/*;q=0.1"
# Above this size the page is parsed on a worker thread, so the event loop keeps running.
_PARSE_INLINE_MAX = 256 * 1024
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_MATCHER = re.compile(r'\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


class MatchOp(Enum):
    """How a label matcher compares, as in PromQL."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    """One label condition; a missing label has the value ``""``, as in PromQL.

    Regular expressions are anchored: ``code=~"5.."`` matches ``500`` but not ``1500``.
    """

    label: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = None
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                regex = re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"bad regex {self.value!r}: {exc}") from None
        object.__setattr__(self, "_regex", regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a series with these labels passes."""
        actual = labels.get(self.label, "")
        if self._regex is not None:
            found = self._regex.fullmatch(actual) is not None
            return found if self.op is MatchOp.REGEX else not found
        return (actual == self.value) is (self.op is MatchOp.EQUAL)


@dataclass(frozen=True, slots=True)
class MetricSelector:
    """A metric family to extract and the series of it that count.

    Attributes:
        name: The family name (``http_requests`` or ``http_requests_total`` for a counter).
        matchers: Conditions every extracted series meets (on a histogram, ``le`` is ignored).
        quantiles: For a histogram, the quantiles to estimate (e.g. ``(0.95,)``).
    """

    name: str
    matchers: tuple[LabelMatcher, ...] = ()
    quantiles: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if re.fullmatch(_NAME, self.name) is None:
            raise ValueError(f"not a metric name: {self.name!r}")
        if any(not 0 <= q <= 1 for q in self.quantiles):
            raise ValueError("quantiles must be between 0 and 1")

    @classmethod
    def parse(cls, text: str, quantiles: Iterable[float] = ()) -> MetricSelector:
        """Read a PromQL-style selector: ``http_requests_total{code=~"5..",method!="GET"}``.

        Raises:
            ValueError: When the text is not a selector.
        """
        found = re.fullmatch(rf"\s*({_NAME})\s*(?:\{{(.*)\}})?\s*", text, re.DOTALL)
        if found is None:
            raise ValueError(f"not a metric selector: {text!r}")
        return cls(found[1], _parse_matchers(found[2] or ""), tuple(quantiles))

    def text(self) -> str:
        """The selector as PromQL writes it."""
        if not self.matchers:
            return self.name
        inner = ",".join(f'{m.label}{m.op.value}"{_escape(m.value)}"' for m in self.matchers)
        return f"{self.name}{{{inner}}}"

    def selects(self, labels: Mapping[str, str]) -> bool:
        """Whether a series with these labels passes every matcher."""
        return all(matcher.matches(labels) for matcher in self.matchers)


def _parse_matchers(text: str) -> tuple[LabelMatcher, ...]:
    matchers: list[LabelMatcher] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        found = _MATCHER.match(text, pos)
        if found is None:
            raise ValueError(f"bad label matcher at {text[pos:]!r}")
        value = re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], found[3])
        matchers.append(LabelMatcher(found[1], MatchOp(found[2]), value))
        pos = found.end()
    return tuple(matchers)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True, slots=True)
class ScrapeProbeConfig:
    """One ``/metrics`` page and what to extract from it.

    Attributes:
        url: The page's URL.
        selectors: The metric families to extract.
        timeout_s: Deadline for the whole fetch.
        body_cap_bytes: Pages larger than this are not parsed (default 4 MiB).
        openmetrics: Ask for OpenMetrics first (the classic text format is parsed as well).
        access: TLS settings and credentials.
    """

    url: str
    selectors: tuple[MetricSelector, ...]
    timeout_s: float = 10.0
    body_cap_bytes: int = DEFAULT_BODY_CAP
    openmetrics: bool = True
    access: HttpAccess = field(default_factory=HttpAccess)

    def __post_init__(self) -> None:
        check_url(self.url)
        if not self.selectors:
            raise ValueError("no metric selectors")
        if self.timeout_s <= 0 or self.body_cap_bytes <= 0:
            raise ValueError("timeout_s and body_cap_bytes must be positive")


@dataclass(frozen=True, slots=True)
class CounterReading:
    """One cumulative series as last seen: its value and, when exposed, its creation time."""

    value: float
    created: float | None = None


@dataclass(frozen=True, slots=True)
class ScrapeState:
    """What a rate needs from the previous scrape.

    Attributes:
        at: The previous scrape's time, by the injected clock's monotonic seconds.
        counters: Cumulative readings by series name (counters, ``_sum``, ``_count``, buckets).
    """

    at: float
    counters: Mapping[str, CounterReading]

    def __post_init__(self) -> None:
        object.__setattr__(self, "counters", MappingProxyType(dict(self.counters)))


async def probe_scrape(
    session: aiohttp.ClientSession,
    config: ScrapeProbeConfig,
    clock: Clock,
    state: ScrapeState | None,
) -> tuple[ProbeResult, ScrapeState | None]:
    """Fetch the page once and extract the selected metrics.

    Args:
        session: The engine's shared session.
        config: The page and the selectors.
        clock: Times the check; its monotonic time spaces the rates.
        state: What the previous call returned (None on the first scrape).

    Returns:
        The result and the state for the next call. Metric names: a gauge series is
        ``name{labels}``; a counter ``rate(name_total{labels})`` in units per second; a
        histogram or summary ``rate(name_sum{...})`` and ``rate(name_count{...})``, a summary's
        quantiles ``name{quantile="0.5"}``, and a histogram's estimates
        ``histogram_quantile(0.95, rate(name_bucket{...}))``. Rates are missing on the first
        scrape and across a counter reset. DOWN when the page cannot be fetched or answers
        non-2xx; UNKNOWN when it is over the cap, does not parse (the reason names the line), or
        a selector matches nothing. When the page could not be read the state is kept, so the
        next rate spans the gap.
    """
    watch = Stopwatch(clock)
    secrets = config.access.secrets()
    try:
        fetched = await fetch_capped(
            session,
            config.url,
            config.access,
            cap=config.body_cap_bytes,
            timeout_s=config.timeout_s,
            accept=_ACCEPT_OPENMETRICS if config.openmetrics else _ACCEPT_TEXT,
        )
    except TimeoutError:
        reason = f"timeout after {seconds_text(config.timeout_s)}"
        return watch.result(ProbeOutcome.DOWN, reason, {}), state
    except (aiohttp.ClientError, OSError) as exc:
        return watch.result(ProbeOutcome.DOWN, redact(request_failure(exc), secrets), {}), state
    at = clock.monotonic()
    problem = _unreadable(config, fetched)
    if problem is not None:
        outcome, reason = problem
        return watch.result(outcome, redact(reason, secrets), {}), state
    openmetrics = fetched.content_type == OPENMETRICS_TYPE
    try:
        if len(fetched.body) > _PARSE_INLINE_MAX:
            families = await asyncio.to_thread(parse_page, fetched.body, openmetrics)
        else:
            families = parse_page(fetched.body, openmetrics)
    except PageError as exc:
        return watch.result(ProbeOutcome.UNKNOWN, f"malformed metrics page: {exc}", {}), state
    extraction = extract(families, config.selectors, state, at)
    details = {"format": "openmetrics" if openmetrics else "text", **extraction.notes}
    details["samples"] = str(sum(len(family.samples) for family in families))
    outcome, reason = ProbeOutcome.UP, f"{len(extraction.metrics)} metrics"
    if extraction.missing:
        outcome, reason = ProbeOutcome.UNKNOWN, "not on the page: " + ", ".join(extraction.missing)
    elif "rates" in details:
        reason += f" ({details['rates']})"
    return watch.result(outcome, reason, extraction.metrics, details), extraction.state


def _unreadable(config: ScrapeProbeConfig, fetched: Fetched) -> tuple[ProbeOutcome, str] | None:
    if not fetched.success:
        return ProbeOutcome.DOWN, fetched.status_line
    if fetched.over_cap:
        cap = size_text(config.body_cap_bytes)
        return ProbeOutcome.UNKNOWN, f"the page is over the {cap} cap; not parsed"
    return None


@dataclass(frozen=True, slots=True)
class Extraction:
    """What the selectors found on one page."""

    metrics: dict[str, float]
    state: ScrapeState
    notes: dict[str, str]
    missing: list[str]


class _Extractor:
    """Walks the families once for all selectors, collecting metrics and counter readings."""

    def __init__(self, families: Sequence[Family], previous: ScrapeState | None, at: float) -> None:
        self.families = families
        self.previous = previous
        self.at = at
        self.elapsed = None if previous is None else at - previous.at
        self.metrics: dict[str, float] = {}
        self.readings: dict[str, CounterReading] = {}
        self.resets: list[str] = []
        self.non_finite: list[str] = []
        self.no_rate_yet = False
        self.no_observations: list[str] = []
        self.created = {
            series_name(s.name, s.labels): s.value
            for family in families
            for s in family.samples
            if s.name.endswith("_created")
        }

    def rate(
        self, name: str, labels: Mapping[str, str], value: float, created: str
    ) -> float | None:
        """Record a cumulative reading; its per-second rate since the last scrape, if any.

        ``created`` names the series that holds the reading's creation time (``x_created``
        with the series' labels, ``le`` left out): it changes when the series restarts.
        """
        key = series_name(name, labels)
        reading = CounterReading(value, self.created.get(created))
        self.readings[key] = reading
        before = None if self.previous is None else self.previous.counters.get(key)
        if before is None or self.elapsed is None or self.elapsed <= 0:
            self.no_rate_yet = True
            return None
        restarted = None not in (before.created, reading.created) and (
            before.created != reading.created
        )
        if value < before.value or restarted:
            self.resets.append(key)
            return None
        return (value - before.value) / self.elapsed

    def put(self, name: str, value: float | None) -> None:
        if value is None:
            return
        if math.isfinite(value):
            self.metrics[name] = value
        else:
            self.non_finite.append(name)


def extract(
    families: Sequence[Family],
    selectors: Sequence[MetricSelector],
    previous: ScrapeState | None,
    at: float,
) -> Extraction:
    """Apply the selectors to a parsed page.

    Args:
        families: The parsed page.
        selectors: What to extract.
        previous: The state from the previous scrape, if any.
        at: This scrape's monotonic time.
    """
    extractor = _Extractor(families, previous, at)
    missing = []
    for selector in selectors:
        found = False
        for family in families:
            if _family_matches(family, selector):
                found = _extract_family(extractor, family, selector) or found
        if not found:
            missing.append(selector.text())
    return Extraction(
        extractor.metrics, ScrapeState(at, extractor.readings), _notes(extractor), missing
    )


def _family_matches(family: Family, selector: MetricSelector) -> bool:
    if family.name == selector.name:
        return True
    return family.type == "counter" and selector.name == family.name + "_total"


def _extract_family(extractor: _Extractor, family: Family, selector: MetricSelector) -> bool:
    """Extract one family's selected series; whether any series was selected."""
    if family.type == "counter":
        return _counter(extractor, family, selector)
    if family.type == "histogram":
        return _histogram(extractor, family, selector)
    if family.type == "summary":
        return _summary(extractor, family, selector)
    found = False
    for sample in family.samples:
        if not sample.name.endswith("_created") and selector.selects(sample.labels):
            extractor.put(series_name(sample.name, sample.labels), sample.value)
            found = True
    return found


def _counter(extractor: _Extractor, family: Family, selector: MetricSelector) -> bool:
    found = False
    for sample in family.samples:
        if sample.name == family.name + "_total" and selector.selects(sample.labels):
            found = True
            _put_rate(extractor, family, sample, sample.labels)
    return found


def _put_rate(
    extractor: _Extractor, family: Family, sample: Sample, series: Mapping[str, str]
) -> float | None:
    """Add the rate of a cumulative sample; series are its labels without ``le``."""
    created = series_name(family.name + "_created", series)
    rate = extractor.rate(sample.name, sample.labels, sample.value, created)
    if sample.name != family.name + "_bucket":
        extractor.put(f"rate({series_name(sample.name, sample.labels)})", rate)
    return rate


def _sum_and_count(extractor: _Extractor, family: Family, selector: MetricSelector) -> bool:
    found = False
    for sample in family.samples:
        names = (family.name + "_sum", family.name + "_count")
        if sample.name in names and selector.selects(sample.labels):
            found = True
            _put_rate(extractor, family, sample, sample.labels)
    return found


def _summary(extractor: _Extractor, family: Family, selector: MetricSelector) -> bool:
    found = _sum_and_count(extractor, family, selector)
    for sample in family.samples:
        if sample.name == family.name and selector.selects(sample.labels):
            found = True
            extractor.put(series_name(sample.name, sample.labels), sample.value)
    return found


def _without_le(labels: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in labels.items() if key != "le"}


def _histogram(extractor: _Extractor, family: Family, selector: MetricSelector) -> bool:
    found = _sum_and_count(extractor, family, selector)
    buckets: dict[str, list[tuple[float, float | None]]] = {}
    for sample in family.samples:
        if sample.name != family.name + "_bucket" or "le" not in sample.labels:
            continue
        labels = _without_le(sample.labels)
        if not selector.selects(labels):
            continue
        found = True
        increase = _put_rate(extractor, family, sample, labels)
        bound = float(sample.labels["le"])
        buckets.setdefault(series_name(sample.name, labels), []).append((bound, increase))
    for key, rates in buckets.items():
        for q in selector.quantiles:
            name = f"histogram_quantile({q:g}, rate({key}))"
            extractor.put(name, _quantile_of_rates(extractor, q, rates, name))
    return found


def _quantile_of_rates(
    extractor: _Extractor, q: float, rates: list[tuple[float, float | None]], name: str
) -> float | None:
    known = [(bound, rate) for bound, rate in rates if rate is not None]
    if len(known) < len(rates):
        return None  # first scrape or a reset: no interval to judge
    value = bucket_quantile(q, known)
    if math.isnan(value):
        extractor.no_observations.append(name)
        return None
    return value


def _notes(extractor: _Extractor) -> dict[str, str]:
    notes: dict[str, str] = {}
    if extractor.resets:
        notes["counter_reset"] = ", ".join(extractor.resets)
    if extractor.no_rate_yet and extractor.previous is None:
        notes["rates"] = "rates need a second scrape"
    if extractor.non_finite:
        notes["non_finite"] = ", ".join(extractor.non_finite)
    if extractor.no_observations:
        notes["no_observations"] = ", ".join(extractor.no_observations)
    return notes


# ---- histogram quantiles --------------------------------------------------------------------
