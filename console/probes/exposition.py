"""The Prometheus/OpenMetrics exposition format: parsing a page, and histogram quantiles.

Parsing uses prometheus-client's own parsers and adds the line where a bad page broke;
``bucket_quantile`` estimates a quantile from cumulative buckets as Prometheus's
``histogram_quantile`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from io import StringIO
from typing import TextIO, cast

from prometheus_client.openmetrics.parser import (
    text_fd_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_fd_to_metric_families as text_families


class PageError(ValueError):
    """The page could not be parsed; ``line`` is where the parser stopped (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class Sample:
    """One parsed sample."""

    name: str
    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Family:
    """One parsed metric family: its name, type (``counter``, ``gauge``, ...) and samples."""

    name: str
    type: str
    samples: tuple[Sample, ...]


class _LineCounter(Iterator[str]):
    """Feeds a parser line by line and remembers how many lines it has taken."""

    def __init__(self, text: str) -> None:
        self._lines = iter(StringIO(text))
        self.taken = 0

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken += 1
        return line


def parse_page(body: bytes, openmetrics: bool) -> list[Family]:
    """Parse an exposition page with prometheus-client's parsers.

    Raises:
        PageError: With the line the parser was reading when it gave up.
    """
    # Invalid UTF-8 becomes U+FFFD: label values are text, and a stray byte should not hide
    # every other metric on the page.
    lines = _LineCounter(body.decode("utf-8", errors="replace"))
    parser = openmetrics_families if openmetrics else text_families
    families: list[Family] = []
    try:
        # The parsers only iterate over their file, which is what the counter offers.
        for metric in parser(cast(TextIO, lines)):
            samples = tuple(Sample(s.name, dict(s.labels), float(s.value)) for s in metric.samples)
            families.append(Family(metric.name, metric.type, samples))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        # The parsers raise bare ValueErrors (no message) for some malformed lines.
        message = str(exc) or "invalid line"
        raise PageError(max(lines.taken, 1), message[:200]) from None
    return families


# ---- extraction -----------------------------------------------------------------------------


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """Estimate the q-quantile from cumulative histogram buckets, as Prometheus does.

    The same rules as Prometheus's ``histogram_quantile`` for classic buckets: linear
    interpolation inside the bucket holding the rank, a lower bound of 0 for the first bucket
    (unless its upper bound is 0 or less, which is then the answer), and the upper bound of
    the second-highest bucket when the rank falls in the ``+Inf`` bucket. Buckets with the same
    bound are merged, and counts that decrease with the bound are raised to the running
    maximum.

    Args:
        q: The quantile, 0 to 1 (below 0 gives -inf, above 1 +inf).
        buckets: ``(upper bound, cumulative count)`` pairs, in any order.

    Returns:
        The estimate, or NaN when there is no ``+Inf`` bucket, fewer than two buckets, or no
        observations.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(buckets)
    if not ordered or ordered[-1][0] != math.inf:
        return math.nan
    merged = _monotonic(_coalesce(ordered))
    if len(merged) < 2 or merged[-1][1] == 0:
        return math.nan
    rank = q * merged[-1][1]
    b = next(i for i, (_, count) in enumerate(merged) if count >= rank or i == len(merged) - 1)
    if b == len(merged) - 1:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    if count == 0:
        return math.nan  # q = 0 over an empty first bucket: Go's 0/0
    return start + (end - start) * (rank / count)


def _coalesce(ordered: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for bound, count in ordered:
        if merged and merged[-1][0] == bound:
            merged[-1] = (bound, merged[-1][1] + count)
        else:
            merged.append((bound, count))
    return merged


def _monotonic(buckets: list[tuple[float, float]]) -> list[tuple[float, float]]:
    highest = -math.inf
    result = []
    for bound, count in buckets:
        highest = max(highest, count)
        result.append((bound, highest))
    return result
