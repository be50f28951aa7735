"""History of the simulated estate, generated from the model without running the server."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np

from console.simulator.catalogue import SeriesKey
from console.simulator.model import EstateModel
from console.simulator.noise import FloatArray


def sample_times(start: float, end: float, step_s: float) -> FloatArray:
    """The sample moments start, start + step_s, ... strictly before end.

    Raises:
        ValueError: If step_s is not positive or end comes before start.
    """
    if not step_s > 0:
        raise ValueError(f"the step must be a positive number of seconds, not {step_s}")
    if end < start:
        raise ValueError("the end of a backfill cannot come before its start")
    # Counted rather than accumulated, so float rounding never adds or drops a sample.
    count = max(0, math.ceil((end - start) / step_s - 1e-9))
    return start + step_s * np.arange(count, dtype=np.float64)


def backfill(
    model: EstateModel,
    series: Iterable[SeriesKey],
    start: float,
    end: float,
    step_s: float,
) -> Iterator[tuple[SeriesKey, float, float]]:
    """(series, t, value) for every series at every step of [start, end), series by series.

    Each series is computed in one vectorised pass, with the same numbers value_at gives.

    Raises:
        ValueError: If step_s is not positive or end comes before start.
    """
    times = sample_times(start, end, step_s)
    moments = times.tolist()
    for key in series:
        for t, value in zip(moments, model.values(key, times).tolist(), strict=True):
            yield key, t, value
