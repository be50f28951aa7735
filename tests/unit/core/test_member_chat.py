"""Chat handles: one canonical order, one handle per network."""

from __future__ import annotations

from console.core.enums import Discipline
from console.core.models import ChatHandle, Member
from console.core.validation import validate_member


def _member(*chat: ChatHandle) -> Member:
    return Member("a@example.com", "A", "UTC", Discipline.OTHER, chat=chat)


def test_declaration_order_does_not_make_members_differ() -> None:
    slack, matrix = ChatHandle("slack", "@a"), ChatHandle("matrix", "@a:example.org")
    assert _member(slack, matrix) == _member(matrix, slack)
    assert _member(slack, matrix).chat == (matrix, slack)


def test_two_handles_on_one_network_are_reported() -> None:
    problems = validate_member(_member(ChatHandle("slack", "@a"), ChatHandle("slack", "@b")))
    assert [(p.path, "slack" in p.message) for p in problems] == [("chat", True)]
    assert validate_member(_member(ChatHandle("slack", "@a"))) == []
