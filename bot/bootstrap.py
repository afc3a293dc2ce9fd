"""The composition root of the engine: settings in, a ready-to-start `Engine` out.

Tests replace any dependency (clock, randomness, database) through the keyword arguments.
"""

from __future__ import annotations

import random

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.delivery import Dispatcher
from bot.directory import Directory
from bot.engine import Engine
from bot.features.activity import ActivityFeature
from bot.features.base import Feature, Services
from bot.features.community import CommunityFeature
from bot.features.dashboard import DashboardFeature
from bot.features.digest.feature import DigestFeature
from bot.features.faq.feature import FaqFeature
from bot.features.moderation.feature import ModerationFeature
from bot.features.points.feature import PointsFeature
from bot.features.privacy import PrivacyFeature
from bot.features.schedule.feature import ScheduleFeature
from storage.database import Database
from storage.writer import ActivityWriter

__all__ = ["build_engine", "build_services"]


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    database: Database | None = None,
) -> Services:
    """Build the shared dependencies every feature receives."""
    clock = clock or SystemClock()
    database = database or Database(settings.database.url)
    directory = Directory(database, settings.defaults, clock, settings.console.community)
    return Services(
        settings=settings,
        database=database,
        writer=ActivityWriter(
            database,
            batch_size=settings.database.batch_size,
            flush_interval=settings.database.flush_interval,
        ),
        directory=directory,
        dispatcher=Dispatcher(directory, clock),
        clock=clock,
        rng=rng or random.Random(),
    )


def build_engine(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    database: Database | None = None,
) -> Engine:
    """Build the engine with every feature, in dispatch order."""
    services = build_services(settings, clock=clock, rng=rng, database=database)
    features: tuple[Feature, ...] = (
        ActivityFeature(services),
        CommunityFeature(services),
        PrivacyFeature(services),
        DashboardFeature(services),
        ModerationFeature(services),
        PointsFeature(services),
        FaqFeature(services),
        ScheduleFeature(services),
        DigestFeature(services),
    )
    return Engine(services, features)
