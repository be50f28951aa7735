"""What the store remembers of an endpoint's samples, as the engine needs it."""

from __future__ import annotations

import math
from datetime import datetime

from console.store import samples
from console.store.db import Store


def last_sample_at(
    store: Store, endpoint: str, metric: str, now: datetime, window_s: float
) -> float | None:
    """When the newest sample of a series within the last ``window_s`` was taken (epoch s).

    Reads on the calling thread's reader connection; None when the series has no sample in
    the window (or does not exist).
    """
    db = store.read()
    series = samples.find_series(db, endpoint, metric)
    if series is None:
        return None
    end = samples.epoch_ms(now) + 1
    start = end - max(1, math.ceil(window_s * 1000))
    data = samples.query_series(db, series, start, end, resolution=samples.Resolution.RAW)
    return data.timestamps[-1] / 1000 if data.timestamps else None
