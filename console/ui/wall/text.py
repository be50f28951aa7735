"""The words on the wall: a tile's lines and the fault screen's, from records and the time.

Every duration is computed from an explicit ``now`` and the moments in the records (when a state
began, when a result arrived), so a tile read a minute ago never claims its data is as fresh as
it was then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from console.core.status import DisplayState, MetricStatus, ServiceTile
from console.core.units import format_number
from console.ui.engine_host import EngineState, EngineStatus
from console.ui.labels import TIER


@dataclass(frozen=True, slots=True)
class TileText:
    """The lines one tile shows, top to bottom.

    Attributes:
        state: The state's word (OK, WARNING, CRITICAL, UNKNOWN, STALE, FLAPPING).
        time_in_state: How long it has been in that state ("12 min"), "" when never judged.
        name: The service's name.
        value: What breached and its value, or what is missing ("NO DATA for 14 min").
        detail: The band or thresholds it is judged against, or the reason.
        team: The owning team.
        duty: Who is on call and the escalation level, and whether nobody acknowledged it.
    """

    state: str
    time_in_state: str
    name: str
    value: str
    detail: str
    team: str
    duty: str


def span(seconds: float) -> str:
    """A duration as a wall shows it: "40 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hrs = divmod(hours, 24)
    return f"{days} d {hrs} h" if hrs else f"{days} d"


def value_text(value: float, unit: str) -> str:
    """A value with its unit symbol ("812 ms", "93 %", "4")."""
    number = format_number(value)
    return f"{number} {unit}" if unit else number


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def limits_text(metric: MetricStatus) -> str:
    """The band or the static levels the metric is judged against, "" when it has neither."""
    parts = []
    if metric.band_low is not None and metric.band_high is not None:
        low, high = format_number(metric.band_low), format_number(metric.band_high)
        parts.append(_with_unit(f"band {low}–{high}", metric.unit))
    levels = []
    if metric.warning is not None:
        levels.append(f"warn {format_number(metric.warning)}")
    if metric.critical is not None:
        levels.append(f"crit {format_number(metric.critical)}")
    if levels:
        parts.append(_with_unit(" · ".join(levels), metric.unit))
    return " · ".join(parts)


def _stale_lines(tile: ServiceTile, now: datetime) -> tuple[str, str]:
    """The silent metric's age (not the service's newest data: another metric may be fresh)."""
    worst = tile.worst
    if worst is None or worst.last_check is None:
        what = "nothing has arrived" if worst is None else f"{worst.metric_name}: nothing yet"
        return "NO DATA yet", what
    value = f"NO DATA for {span((now - worst.last_check).total_seconds())}"
    if worst.value is None:
        return value, worst.metric_name
    return value, f"{worst.metric_name} last {value_text(worst.value, worst.unit)}"


def _problem_lines(tile: ServiceTile) -> tuple[str, str]:
    worst = tile.worst
    if worst is None:
        return "", ""
    more = f" · +{tile.bad_count - 1} more" if tile.bad_count > 1 else ""
    # Without a value (the probe failed, or an endpoint's own check) the reason says what
    # happened; with one, the band or levels say how far it strayed.
    if tile.state is DisplayState.UNKNOWN:
        return f"{worst.metric_name} unknown{more}", worst.reason
    if worst.value is None:
        return f"{worst.metric_name} failed{more}", worst.reason
    value = f"{worst.metric_name} {value_text(worst.value, worst.unit)}{more}"
    return value, limits_text(worst) or worst.reason


def _ok_lines(tile: ServiceTile) -> tuple[str, str]:
    # No per-tile data age here: it would change every second on every tile; the header shows
    # the newest data's age, and a tile whose data stops arriving turns STALE with its own.
    if tile.metric_count == 0:
        return "no metrics", TIER[tile.tier]
    noun = "metric" if tile.metric_count == 1 else "metrics"
    return f"{tile.metric_count} {noun} OK", TIER[tile.tier]


def duty_text(tile: ServiceTile) -> str:
    """On call and escalation level (when known), led by "DRILL" and "Not acknowledged"."""
    parts = []
    if tile.drill:
        parts.append("DRILL in progress")
    if tile.unacknowledged:
        parts.append("NOT ACKNOWLEDGED")
    if tile.on_call:
        parts.append(f"on call {tile.on_call}")
    if tile.escalation_level is not None:
        parts.append(f"level {tile.escalation_level}")
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]


def tile_text(tile: ServiceTile, now: datetime) -> TileText:
    """The lines of ``tile`` at ``now`` (durations run from the tile's own moments to ``now``)."""
    if tile.state is DisplayState.STALE:
        value, detail = _stale_lines(tile, now)
    elif tile.state is DisplayState.OK:
        value, detail = _ok_lines(tile)
    else:
        value, detail = _problem_lines(tile)
    lasted = "" if tile.since is None else span((now - tile.since).total_seconds())
    return TileText(
        state=tile.state.label,
        time_in_state=lasted,
        name=tile.name,
        value=value,
        detail=detail,
        team=tile.team_name,
        duty=duty_text(tile),
    )


@dataclass(frozen=True, slots=True)
class FaultText:
    """What the full-screen fault says.

    Attributes:
        title: The fault in capitals ("ENGINE STOPPED since 04:12").
        body: What it means for the wall.
        detail: More words (the engine's own explanation or the read error), "" when none.
    """

    title: str
    body: str
    detail: str = ""


NOT_COLLECTED = "Data is not being collected. The tiles are hidden: they would show old data."


def clock_text(moment: datetime) -> str:
    """A moment as local wall-clock time, "04:12"."""
    return moment.astimezone().strftime("%H:%M")


def engine_fault(status: EngineStatus, read_at: datetime) -> FaultText | None:
    """The fault for an engine that is not collecting data, or None while it is.

    Args:
        status: Where the engine stands.
        read_at: When ``status`` was read (its silence is measured from then).
    """
    since = ""
    if status.silent_s is not None:
        since = f" since {clock_text(read_at - timedelta(seconds=status.silent_s))}"
    detail = status.detail or ""
    if status.state is EngineState.STOPPED:
        return FaultText(f"ENGINE STOPPED{since}", NOT_COLLECTED, detail)
    if status.state is EngineState.NOT_RESPONDING:
        return FaultText(f"ENGINE NOT RESPONDING{since}", NOT_COLLECTED, detail)
    if status.state is EngineState.FAILED:
        return FaultText("ENGINE FAILED", NOT_COLLECTED, detail)
    return None


def store_fault(error: str) -> FaultText:
    """The fault for a store the wall cannot read."""
    return FaultText(
        "STORE UNREADABLE",
        "The wall cannot read its data. The tiles are hidden: they would show old data.",
        error,
    )
