"""Which screen the wall stands on: the one asked for while it exists, else the primary one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class NamedScreen(Protocol):
    """What choosing a screen needs of one (QScreen has it)."""

    def name(self) -> str:
        """The screen's name as the system gives it ("HDMI-1")."""
        ...


S = TypeVar("S", bound=NamedScreen)


def choose_screen(
    screens: Sequence[S], index: int | None, name: str | None, primary: S, gone: S | None = None
) -> S:
    """The screen to show the wall on.

    The screen asked for is remembered by name once it has been seen, so that when it is
    unplugged the wall falls back to the primary screen, and when it comes back (whatever its
    place in the list by then) the wall returns to it.

    Args:
        screens: The screens there are, in the system's order.
        index: The screen asked for (``--screen N``, 0-based), or None for the primary one.
        name: The name of the screen asked for, once it is known.
        primary: The primary screen.
        gone: A screen being removed right now (it may still be in ``screens``).

    Returns:
        The screen named ``name`` if it is there, else (while its name is unknown) the one at
        ``index``, else ``primary`` (or the first screen left, when the primary is the one
        going).
    """
    present = [s for s in screens if s is not gone]
    fallback = primary if primary is not gone or not present else present[0]
    if name:
        return next((s for s in present if s.name() == name), fallback)
    if index is not None and 0 <= index < len(present):
        return present[index]
    return fallback
