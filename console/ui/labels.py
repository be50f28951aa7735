"""Words people read for the domain's enums (the enums' values are for files, not for eyes)."""

from __future__ import annotations

from console.core.enums import Discipline, ImpactTier, MemberRole, Priority, ResourceKind, Severity

DISCIPLINE = {
    Discipline.SECURITY: "Security",
    Discipline.INFRASTRUCTURE: "Infrastructure",
    Discipline.DEVELOPMENT: "Development",
    Discipline.OTHER: "Other",
}

ROLE = {
    MemberRole.LEAD: "Lead",
    MemberRole.RESPONDER: "Responder",
    MemberRole.SHADOW: "Shadow",
    MemberRole.MANAGER: "Manager",
    MemberRole.STAKEHOLDER: "Stakeholder",
}

TIER = {
    ImpactTier.TIER_1: "Tier 1 · critical",
    ImpactTier.TIER_2: "Tier 2 · high",
    ImpactTier.TIER_3: "Tier 3 · moderate",
    ImpactTier.TIER_4: "Tier 4 · low",
}

SEVERITY = {
    Severity.CRITICAL: "Critical",
    Severity.WARNING: "Warning",
    Severity.INFO: "Info",
}

PRIORITY = {
    Priority.P1: "P1 · page now",
    Priority.P2: "P2 · urgent",
    Priority.P3: "P3 · high",
    Priority.P4: "P4 · normal",
    Priority.P5: "P5 · low",
}

RESOURCE_KIND = {
    ResourceKind.BRIDGE_LINE: "Bridge line",
    ResourceKind.FORENSIC_WORKSTATION: "Forensic workstation",
    ResourceKind.VENDOR_SUPPORT: "Vendor support",
    ResourceKind.ACCESS: "Access",
    ResourceKind.DOCUMENT: "Document",
    ResourceKind.OTHER: "Other",
}


def minutes(value: int | None) -> str:
    """A duration in minutes for people: 45 min, 1 h 30 min; a dash when unknown."""
    if value is None:
        return "—"
    hours, mins = divmod(value, 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins} min" if mins else f"{hours} h"
