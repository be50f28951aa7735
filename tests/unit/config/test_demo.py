"""The shipped demo estate: valid, realistic, and honest about evidence-destroying steps."""

from __future__ import annotations

import re
from pathlib import Path

import console
from console.config.demo import demo_estate, demo_path
from console.config.loader import check_file
from console.core.enums import Discipline, ImpactTier, ResourceKind
from console.core.validation import validate_estate


def test_demo_file_is_found_beside_the_package_and_has_no_problems() -> None:
    path = demo_path()
    assert path == Path(console.__file__).resolve().parent.parent / "resources/demo/estate.yaml"
    assert check_file(path) == []
    assert validate_estate(demo_estate()) == []


def test_demo_has_the_four_teams_with_leads_and_bridges() -> None:
    estate = demo_estate()
    teams = {t.key: t for t in estate.teams}
    assert set(teams) == {"noc", "sirt", "platform", "payments"}
    assert teams["sirt"].discipline is Discipline.SECURITY
    assert teams["noc"].discipline is Discipline.INFRASTRUCTURE
    assert teams["platform"].discipline is Discipline.INFRASTRUCTURE
    assert teams["payments"].discipline is Discipline.DEVELOPMENT
    for team in estate.teams:
        assert team.lead is not None and team.bridge_url is not None
        assert team.role_of(team.lead) is not None, f"{team.key}'s lead is not a member"


def test_demo_members_are_spread_over_time_zones_with_fictional_contacts() -> None:
    members = demo_estate().members
    assert 14 <= len(members) <= 18
    assert len({m.timezone for m in members}) >= 7
    for m in members:
        assert m.email.endswith("@example.com")
        assert m.phone is not None and m.chat
        for handle in m.chat:
            assert ":" not in handle.handle or handle.handle.endswith(":example.org")


def test_demo_services_form_a_dependency_graph_across_all_tiers() -> None:
    services = demo_estate().services
    assert 12 <= len(services) <= 18
    assert {s.tier for s in services} == set(ImpactTier)
    assert sum(len(s.depends_on) for s in services) >= 15
    keys = {s.key for s in services}
    assert {"edge-cdn", "api-gateway", "payments-api", "postgres-main", "kafka-events"} <= keys


def test_demo_runbooks_have_timed_steps_and_mark_evidence_destruction() -> None:
    runbooks = {r.key: r for r in demo_estate().runbooks}
    assert set(runbooks) == {
        "disk-full",
        "queue-backlog",
        "failing-upstream-api",
        "suspected-intrusion",
    }
    destructive = re.compile(r"\b(reboot|wipe|reimag)", re.IGNORECASE)
    for runbook in runbooks.values():
        assert 4 <= len(runbook.steps) <= 7
        assert runbook.expected_minutes is not None
        for step in runbook.steps:
            if destructive.search(step.title):
                assert step.destroys_evidence, f"{runbook.key}: {step.title}"


def test_intrusion_runbook_preserves_evidence_before_destroying_it() -> None:
    (intrusion,) = [r for r in demo_estate().runbooks if r.key == "suspected-intrusion"]
    titles = [s.title.lower() for s in intrusion.steps]
    preserve = next(i for i, t in enumerate(titles) if "preserve evidence" in t)
    destroying = [i for i, s in enumerate(intrusion.steps) if s.destroys_evidence]
    assert destroying and all(i > preserve for i in destroying)
    assert not intrusion.steps[preserve].destroys_evidence
    assert "Do not reboot" in intrusion.steps[preserve].body


def test_demo_resources_name_keyring_entries_never_secrets() -> None:
    resources = demo_estate().resources
    kinds = {r.kind for r in resources}
    assert {
        ResourceKind.BRIDGE_LINE,
        ResourceKind.FORENSIC_WORKSTATION,
        ResourceKind.VENDOR_SUPPORT,
        ResourceKind.ACCESS,
    } <= kinds
    for r in resources:
        if r.secret_ref is not None:
            assert r.secret_ref.startswith("oncall-console/")
    text = demo_path().read_text(encoding="utf-8").lower()
    assert "password:" not in text and "token:" not in text
