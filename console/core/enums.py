"""The domain's closed sets of values: every state and kind is an enum, never a bare string."""

from __future__ import annotations

from enum import Enum, IntEnum


class Discipline(Enum):
    """What kind of work a team or a member does."""

    SECURITY = "security"
    INFRASTRUCTURE = "infrastructure"
    DEVELOPMENT = "development"
    OTHER = "other"


class MemberRole(Enum):
    """A member's role within one team."""

    LEAD = "lead"
    RESPONDER = "responder"
    SHADOW = "shadow"
    MANAGER = "manager"
    STAKEHOLDER = "stakeholder"


class ImpactTier(IntEnum):
    """Business impact of a service: tier 1 is the most critical."""

    TIER_1 = 1
    TIER_2 = 2
    TIER_3 = 3
    TIER_4 = 4


class Severity(Enum):
    """How bad a signal is, before the service's impact is considered."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Priority(Enum):
    """Response priority from impact tier x severity; P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"

    @property
    def rank(self) -> int:
        """1 for P1 up to 5 for P5."""
        return int(self.value[1])


class ResourceKind(Enum):
    """What a shared resource is."""

    BRIDGE_LINE = "bridge_line"
    FORENSIC_WORKSTATION = "forensic_workstation"
    VENDOR_SUPPORT = "vendor_support"
    ACCESS = "access"
    DOCUMENT = "document"
    OTHER = "other"


class EntityKind(Enum):
    """The configurable entities; each has a stable key (a slug, or a member's email)."""

    TEAM = "team"
    MEMBER = "member"
    SERVICE = "service"
    RUNBOOK = "runbook"
    RESOURCE = "resource"
    ENDPOINT = "endpoint"
    SILENCE = "silence"
    SCHEDULE = "schedule"
    UNAVAILABILITY = "unavailability"
    ESCALATION_POLICY = "escalation_policy"
