"""Typed SQLAlchemy 2 models: the schema of record (migrations must match it)."""

from __future__ import annotations

from storage.models.activity import MemberDay, MemberEvent, MessageLog, ReactionLog
from storage.models.base import Base, UTCDateTime
from storage.models.content import (
    DigestRun,
    DigestSubscription,
    FaqAnswer,
    FaqEntry,
    FaqQuestion,
    FaqUnanswered,
    FaqVote,
    Schedule,
    ScheduleRun,
)
from storage.models.identity import Account, Community, Group, Member, MemberAccount
from storage.models.moderation import BlockedPhrase, MemberWarning, ModerationAction
from storage.models.points import (
    LevelRole,
    PointsLedger,
    PointsPeriod,
    PointsTotal,
    ThanksGiven,
)
from storage.models.web import WebLink, WebSession

__all__ = [
    "Account",
    "Base",
    "BlockedPhrase",
    "Community",
    "DigestRun",
    "DigestSubscription",
    "FaqAnswer",
    "FaqEntry",
    "FaqQuestion",
    "FaqUnanswered",
    "FaqVote",
    "Group",
    "LevelRole",
    "Member",
    "MemberAccount",
    "MemberDay",
    "MemberEvent",
    "MemberWarning",
    "MessageLog",
    "ModerationAction",
    "PointsLedger",
    "PointsPeriod",
    "PointsTotal",
    "ReactionLog",
    "Schedule",
    "ScheduleRun",
    "ThanksGiven",
    "UTCDateTime",
    "WebLink",
    "WebSession",
]
