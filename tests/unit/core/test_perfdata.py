"""The Nagios plugin output parser: hand-worked cases, recorded plugins and properties."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from console.core.perfdata import (
    PerfItem,
    PerfUnit,
    PluginState,
    Range,
    format_item,
    format_perfdata,
    parse_output,
    parse_perfdata,
    parse_range,
)
from hypothesis import example, given
from hypothesis import strategies as st

RECORDED = Path(__file__).parents[2] / "fixtures" / "probes" / "plugins.json"
INF = math.inf

# The Monitoring Plugins guidelines' table: threshold -> "generate an alert if x...".
GUIDELINE_TABLE = {
    "10": lambda x: x < 0 or x > 10,
    "10:": lambda x: x < 10,
    "~:10": lambda x: x > 10,
    "10:20": lambda x: x < 10 or x > 20,
    "@10:20": lambda x: 10 <= x <= 20,
}
SAMPLES = [-1e9, -11, -1, -0.001, 0, 0.5, 9.999, 10, 10.001, 15, 19.9, 20, 20.1, 25, 1e9]


@pytest.mark.parametrize("text", sorted(GUIDELINE_TABLE))
@pytest.mark.parametrize("value", SAMPLES)
def test_ranges_follow_the_guidelines_table(text: str, value: float) -> None:
    assert parse_range(text).alerts(value) is GUIDELINE_TABLE[text](value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", Range(0, 10)),
        ("10:", Range(10, INF)),
        ("~:10", Range(-INF, 10)),
        ("10:20", Range(10, 20)),
        ("@10:20", Range(10, 20, inside=True)),
        ("@5", Range(0, 5, inside=True)),
        ("-5:-1", Range(-5, -1)),
        ("~:", Range(-INF, INF)),
        (":7", Range(0, 7)),
        ("1.5:2.25", Range(1.5, 2.25)),
        ("0:1e3", Range(0, 1000)),
    ],
)
def test_range_parsing(text: str, expected: Range) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty range"),
        ("@", "empty range"),
        ("20:10", "greater than its end"),
        ("-5", "greater than its end"),
        ("abc", "'abc' is not a number"),
        ("1:2:3", "'2:3' is not a number"),
        ("10:~", "'~' is not a number"),
        ("1,5", "'1,5' is not a number"),
        ("1e999", "out of range"),
    ],
)
def test_bad_ranges_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_range(text)


def test_an_item_with_every_field() -> None:
    (item,), problems = parse_perfdata("'disk used'=93.5%;80:90;@95:100;0;100")
    assert problems == []
    assert item == PerfItem("disk used", 93.5, "%", Range(80, 90), Range(95, 100, True), 0, 100)
    assert item.unit is PerfUnit.PERCENT
    assert item.state() is PluginState.WARNING
    assert item.state(97) is PluginState.CRITICAL
    assert item.state(85) is PluginState.OK


def test_units_known_and_unknown() -> None:
    items, problems = parse_perfdata(
        "a=1s b=2ms c=3us d=4% e=5B f=6KB g=7MB h=8GB i=9TB j=10c k=11KiB l=12req/s m=13"
    )
    assert problems == []
    assert [i.unit for i in items] == [*PerfUnit, None, None, None]
    assert [i.uom for i in items][-3:] == ["KiB", "req/s", None]


def test_quoted_labels_and_escaped_quotes() -> None:
    items, problems = parse_perfdata("'a b'=1 'it''s'=2 '='=3 'x y''z'=4 plain=5")
    assert problems == []
    assert [(i.label, i.value) for i in items] == [
        ("a b", 1),
        ("it's", 2),
        ("=", 3),
        ("x y'z", 4),
        ("plain", 5),
    ]


def test_undetermined_value_and_trailing_semicolons() -> None:
    items, problems = parse_perfdata("rta=U;;;; loss=0%;;;")
    assert problems == []
    assert items[0].value is None and items[0].state() is PluginState.UNKNOWN
    assert items[1] == PerfItem("loss", 0, "%")


def test_malformed_items_are_reported_and_the_rest_kept() -> None:
    text = "ok=1 x=1,5 =3 nolabel y= z=abc w=1;bad;@;;zz good=2;3 many=1;;;;;6 'open=1 b=2"
    items, problems = parse_perfdata(text)
    assert [(i.label, i.value) for i in items] == [("ok", 1), ("w", 1), ("good", 2), ("many", 1)]
    w = items[1]
    assert w.warn is None and w.crit is None and w.maximum is None
    by_path: dict[str, str] = {}
    for problem in problems:
        by_path[problem.path] = by_path.get(problem.path, "") + problem.message + "\n"
    assert list(by_path) == [f"perfdata[{i}]" for i in (1, 2, 3, 4, 5, 6, 8, 9)]
    assert "'1,5' is not a number" in by_path["perfdata[1]"]
    assert "empty label" in by_path["perfdata[2]"]
    assert "expected '='" in by_path["perfdata[3]"]
    assert "no value" in by_path["perfdata[4]"]
    assert "'abc' is not a number" in by_path["perfdata[5]"]
    assert all(
        f"bad {what}" in by_path["perfdata[6]"]
        for what in ("warning threshold", "critical threshold", "maximum")
    )
    assert by_path["perfdata[6]"].count("\n") == 3
    assert "6 fields" in by_path["perfdata[8]"]
    assert "unterminated quoted label" in by_path["perfdata[9]"]


def test_the_guidelines_multi_line_example() -> None:
    output = (
        "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
        "/ 15272 MB (77%);\n"
        "/boot 68 MB (69%);\n"
        "/home 69357 MB (27%);\n"
        "/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
        "/home=69357MB;253404;253409;0;253414\n"
        "/var/log=818MB;970;975;0;980\n"
    )
    parsed = parse_output(output)
    assert parsed.text == "DISK OK - free space: / 3326 MB (56%);"
    assert parsed.long_text == (
        "/ 15272 MB (77%);",
        "/boot 68 MB (69%);",
        "/home 69357 MB (27%);",
        "/var/log 819 MB (84%);",
    )
    assert [(i.label, i.value, i.uom) for i in parsed.perfdata] == [
        ("/", 2643, "MB"),
        ("/boot", 68, "MB"),
        ("/home", 69357, "MB"),
        ("/var/log", 818, "MB"),
    ]
    assert parsed.perfdata[1] == PerfItem("/boot", 68, "MB", Range(0, 88), Range(0, 93), 0, 98)
    assert parsed.problems == ()


@pytest.mark.parametrize(
    "output", ["", "\n\n", "\x00\xff garbage |", "|||", "no perfdata at all", "x\r\ny | a=1\r\n"]
)
def test_odd_output_never_raises(output: str) -> None:
    parsed = parse_output(output)
    assert "\n" not in parsed.text
    assert all(isinstance(p.message, str) for p in parsed.problems)


def _recorded() -> list[dict[str, object]]:
    return list(json.loads(RECORDED.read_text(encoding="utf-8")))


@pytest.mark.parametrize("entry", _recorded(), ids=lambda e: " ".join(e["argv"]))
def test_recorded_plugin_output_parses_cleanly(entry: dict[str, object]) -> None:
    output = str(entry["output"])
    parsed = parse_output(output)
    assert parsed.problems == ()
    assert parsed.text and parsed.text == output.splitlines()[0].partition("|")[0].strip()
    # Every item the plugin printed (one '=' each) came back as an item.
    perf = output.partition("|")[2]
    assert len(parsed.perfdata) == perf.count("=")


# The plugins below judge exactly the values they print against the thresholds they print, so
# our range semantics must reach the same verdict as their C implementation. (check_swap is
# left out: it reports CRITICAL for a machine without swap whatever its perfdata says.)
JUDGED_BY_PERFDATA = ("check_load", "check_procs", "check_users", "check_disk", "check_tcp")


@pytest.mark.parametrize(
    "entry",
    [e for e in _recorded() if e["argv"][0] in JUDGED_BY_PERFDATA],  # type: ignore[index]
    ids=lambda e: " ".join(e["argv"]),
)
def test_recorded_verdicts_match_the_perfdata_thresholds(entry: dict[str, object]) -> None:
    parsed = parse_output(str(entry["output"]))
    worst = max(item.state() for item in parsed.perfdata)
    assert worst == PluginState(int(str(entry["exit_code"])))


def test_the_recordings_cover_every_verdict() -> None:
    codes = {int(str(e["exit_code"])) for e in _recorded() if e["argv"][0] in JUDGED_BY_PERFDATA}  # type: ignore[index]
    assert codes == {0, 1, 2}


# ---- properties ------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
label_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\n\r")


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    a, b = sorted([draw(finite), draw(finite)])
    start = draw(st.sampled_from([a, -INF, 0.0])) if b >= 0 else draw(st.just(a) | st.just(-INF))
    end = draw(st.sampled_from([b, INF]))
    return Range(start, end, draw(st.booleans()))


uoms = st.sampled_from([None, *[u.value for u in PerfUnit], "KiB", "req/s", "dBm", "°C", "x_1"])


@st.composite
def items(draw: st.DrawFn) -> PerfItem:
    value = draw(st.none() | finite)
    return PerfItem(
        label=draw(st.text(label_chars, min_size=1, max_size=20)),
        value=value,
        uom=None if value is None else draw(uoms),
        warn=draw(st.none() | ranges()),
        crit=draw(st.none() | ranges()),
        minimum=draw(st.none() | finite),
        maximum=draw(st.none() | finite),
    )


@given(st.lists(items(), max_size=6))
@example([PerfItem("a b'c=d", -0.0, "%", Range(-INF, 0.0, True), Range(1e300, INF))])
def test_format_then_parse_gives_the_items_back(generated: list[PerfItem]) -> None:
    parsed, problems = parse_perfdata(format_perfdata(generated))
    assert problems == []
    assert parsed == generated


@given(items())
def test_an_item_survives_a_whole_plugin_output(item: PerfItem) -> None:
    parsed = parse_output(f"OK - fine | first=1\nlong text | {format_item(item)}\n")
    assert parsed.perfdata == (PerfItem("first", 1), item)
    assert parsed.text == "OK - fine" and parsed.long_text == ("long text",)


def oracle_alerts(text: str, value: float) -> bool:
    """The guidelines' prose, implemented separately: split the text, then decide."""
    inside = text[:1] == "@"
    body = text.lstrip("@")
    if ":" in body:
        low_text, high_text = body.split(":")
        low = -INF if low_text == "~" else float(low_text or 0)
        high = INF if high_text == "" else float(high_text)
    else:
        low, high = 0.0, float(body)
    if inside:
        return low <= value <= high
    return value < low or value > high


@given(ranges(), st.lists(finite, min_size=1, max_size=10))
def test_ranges_agree_with_an_independent_oracle(rng: Range, values: list[float]) -> None:
    text = str(rng)
    for value in [*values, rng.start, rng.end]:
        if math.isfinite(value):
            assert rng.alerts(value) is oracle_alerts(text, value)
            assert parse_range(text).alerts(value) is oracle_alerts(text, value)


@given(ranges())
def test_range_text_round_trips(rng: Range) -> None:
    assert parse_range(str(rng)) == rng


@given(st.text(max_size=200))
def test_any_text_parses_without_raising(text: str) -> None:
    parsed = parse_output(text)
    for problem in parsed.problems:
        assert problem.path.startswith("perfdata[")


fragments = st.sampled_from(
    ["'", "''", "=", " ", ";", "@", "~", ":", ".", "-", "1", "2.5", "a", "U"]
)


@given(st.lists(fragments, max_size=30).map("".join))
def test_perfdata_shaped_noise_parses_without_raising(text: str) -> None:
    found, problems = parse_perfdata(text)
    assert all(p.path.startswith("perfdata[") for p in problems)
    # Whatever parsed is well-formed enough to be written out and read back identically.
    again, more = parse_perfdata(format_perfdata(found))
    assert again == found and more == []
