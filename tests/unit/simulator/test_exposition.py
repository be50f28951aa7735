"""The exposition text parses with prometheus_client and carries every series and the counter."""

from __future__ import annotations

import math

from console.simulator.catalogue import Metric, SeriesKey
from console.simulator.exposition import format_value, page, render
from console.simulator.model import EstateModel
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.simulator.support import MONDAY


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_awkward_label_values_survive_the_round_trip() -> None:
    awkward = 'C:\\data "hot"\nsecond line'
    key = SeriesKey(Metric.DISK_USED, "s3-backups", (("host", "h1"), ("mount", awkward)))
    text = render({key: 42.125}, {"s3-backups": 1e12 + 0.5})
    samples = _samples(text)
    labels = (("host", "h1"), ("mount", awkward), ("service", "s3-backups"))
    assert samples[("demo_disk_used_percent", labels)] == 42.125
    assert samples[("demo_requests_total", (("service", "s3-backups"),))] == 1e12 + 0.5


def test_special_values_are_spelled_as_prometheus_does() -> None:
    assert format_value(math.nan) == "NaN"
    assert format_value(math.inf) == "+Inf"
    assert format_value(-math.inf) == "-Inf"
    assert float(format_value(0.1 + 0.2)) == 0.1 + 0.2


def test_the_page_holds_every_series_with_the_models_values() -> None:
    model = EstateModel()
    t = MONDAY + 11 * 3600
    families = {family.name: family for family in text_string_to_metric_families(page(model, t))}
    assert {metric.value for metric in Metric} <= families.keys()
    assert all(families[metric.value].type == "gauge" for metric in Metric)
    assert families["demo_requests"].type == "counter"
    samples = _samples(page(model, t))
    for key in model.series():
        assert samples[(key.name, tuple(sorted(key.labels.items())))] == model.value_at(key, t)
    counters = [name for name, _ in samples if name == "demo_requests_total"]
    assert len(counters) == len(model.services())
