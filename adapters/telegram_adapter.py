"""The Telegram adapter: python-telegram-bot's Application embedded in Hearth's event loop.

Long polling by default (`adapters.telegram_polling`); Hearth's own webhook server
(`adapters.telegram_webhook`) when `telegram.webhook_url` is set. Both tell Telegram an update
was delivered only once it is committed. Every update goes through one handler that turns it
into engine events (see `adapters.telegram_updates`); actions are carried out by
`adapters.telegram_send`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    ChatMember,
    Update,
)
from telegram import Message as TgMessage
from telegram.constants import UpdateType
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)

from adapters.images import ImageFetcher
from adapters.telegram_commands import command_menus
from adapters.telegram_polling import Poller
from adapters.telegram_send import TelegramSender
from adapters.telegram_updates import (
    GROUP_CHATS,
    PLATFORM,
    member_events,
    message_events,
    parse_command,
    place_of,
    reaction_events,
    sender_of,
)
from adapters.telegram_webhook import WebhookServer
from bot.clock import Clock
from bot.config import Settings, TelegramSettings
from bot.engine import Engine
from bot.errors import ConfigError, DeliveryFailed, DeliveryProblem
from bot.events import (
    Action,
    CommandInvoked,
    DirectMessage,
    Event,
    MemberJoined,
    MemberLeft,
    Role,
)
from bot.features.digest.feature import DigestFeature
from bot.features.privacy import PrivacyFeature
from bot.i18n import N_, normalize_language, translator

__all__ = ["ALLOWED_UPDATES", "TelegramAdapter"]

logger = logging.getLogger(__name__)
ALLOWED_UPDATES: tuple[str, ...] = (
    UpdateType.MESSAGE,
    UpdateType.EDITED_MESSAGE,
    UpdateType.CHAT_MEMBER,
    UpdateType.MY_CHAT_MEMBER,
    UpdateType.MESSAGE_REACTION,
    UpdateType.CALLBACK_QUERY,
    UpdateType.POLL_ANSWER,
)
#: Telegram sends a join both as a service message and as a chat_member update.
MEMBERSHIP_ECHO = timedelta(minutes=1)
#: How the message ids of a basic group's history move when it becomes a supergroup.
BASIC_GROUP_ID_SHIFT = -1_000_000_000
DEFAULT_API_BASE_URL = TelegramSettings().api_base_url.rstrip("/")
PRIVACY_WARNING = (
    "Telegram privacy mode is on for this bot: in groups Hearth only sees commands, replies to "
    "its own messages and service messages, so activity, points and FAQ answers miss most "
    "messages. Turn it off in @BotFather (/setprivacy → Disable), then remove and re-add the "
    "bot to each group."
)


class TelegramAdapter:
    """Connects Hearth to Telegram through python-telegram-bot."""

    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
        rate_limit_retries: int = 3,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings.telegram
        self.default_language = settings.defaults.language
        self.clock = clock
        self.rate_limit_retries = rate_limit_retries
        self.sleep = sleep
        images = ImageFetcher.from_settings(settings.schedule)
        self.sender = TelegramSender(clock, retry_delays, images)
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._engine: Engine | None = None
        self._roles: dict[tuple[int, int], tuple[Role, datetime]] = {}
        self._memberships: dict[tuple[str, str, str], datetime] = {}

    # ------------------------------------------------------------------ lifecycle

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        base = self.settings.api_base_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(self.settings.token)
            .base_url(base)
            .base_file_url(base.removesuffix("/bot") + "/file/bot")
            .rate_limiter(AIORateLimiter(max_retries=self.rate_limit_retries))
        )
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        return application

    async def run(self, engine: Engine) -> None:
        """Connect, register commands, receive updates until cancelled, then stop cleanly:
        the update in hand is finished and committed, the rest left unconfirmed.

        Raises:
            ConfigError: Telegram rejected the token or a setting (retrying cannot help), at
                start or later while polling (a revoked token).
            ConnectionError: Telegram could not be reached, or answered with a server error,
                while connecting; the runner tries again with backoff.
        """
        self._engine = engine
        try:
            await self._serve(engine)
        except InvalidToken:
            # PTB's own message repeats the token: say which setting is wrong instead.
            raise ConfigError(self._rejected_token()) from None
        except BadRequest as error:
            raise ConfigError(f"telegram: Telegram refused the settings: {error.message}") from None
        except (NetworkError, RetryAfter) as error:
            raise ConnectionError(f"Telegram unreachable: {error.message}") from None
        finally:
            self.application = None

    def _rejected_token(self) -> str:
        message = "telegram.token: Telegram rejected the token"
        if self.settings.api_base_url.rstrip("/") != DEFAULT_API_BASE_URL:
            # A wrong path on a self-hosted Bot API server answers 404 like a bad token.
            message += " (or telegram.api_base_url is not a Bot API server)"
        return message

    async def _serve(self, engine: Engine) -> None:
        application = self.application = self._build()
        async with application:
            bot = application.bot
            if not bot.can_read_all_group_messages:
                logger.warning(PRIVACY_WARNING)
            await self._register_commands(bot, engine)
            await application.start()
            updater = application.updater
            if updater is None:  # pragma: no cover - the builder always makes one
                raise RuntimeError("python-telegram-bot built no updater")
            try:
                if self.settings.webhook_url:
                    logger.info("telegram: connected as @%s", bot.username)
                    await self._webhook(application, engine).run()
                else:
                    await bot.delete_webhook()
                    logger.info("telegram: connected as @%s", bot.username)
                    poller = Poller(
                        application,
                        allowed_updates=ALLOWED_UPDATES,
                        commit=engine.commit,
                        clock=self.clock,
                        sleep=self.sleep,
                    )
                    await poller.run()
            finally:
                if updater.running:
                    await updater.stop()
                await application.stop()

    def _webhook(
        self, application: Application[Any, Any, Any, Any, Any, Any], engine: Engine
    ) -> WebhookServer:
        return WebhookServer(
            application,
            url=self.settings.webhook_url,
            listen=self.settings.webhook_listen,
            port=self.settings.webhook_port,
            secret=self.settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            commit=engine.commit,
        )

    async def _register_commands(self, bot: Bot, engine: Engine) -> None:
        try:
            for language, members, admins, private in command_menus(engine.registry):
                code = None if language == "en" else language.split("_")[0]
                await bot.set_my_commands(members, BotCommandScopeDefault(), code)
                await bot.set_my_commands(admins, BotCommandScopeAllChatAdministrators(), code)
                await bot.set_my_commands(private, BotCommandScopeAllPrivateChats(), code)
        except TelegramError:
            logger.exception("telegram: could not register the command menu; commands still work")

    # ------------------------------------------------------------------ updates

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        engine = self._engine
        if engine is None:  # pragma: no cover - handlers run only after run() set it
            return
        try:
            for event in await self._events(update):
                await engine.process(event)
        except Exception:
            logger.exception("telegram: update %s failed; continuing", update.update_id)

    async def _events(self, update: Update) -> list[Event]:
        if update.message is not None:
            return await self._message(update.message)
        if update.chat_member is not None:
            return self._fresh_memberships(member_events(update.chat_member))
        if update.message_reaction is not None:
            return reaction_events(update.message_reaction)
        if update.callback_query is not None:
            await update.callback_query.answer()
        return []  # edits, poll answers, our own membership: not activity

    async def _message(self, message: TgMessage) -> list[Event]:
        if message.migrate_to_chat_id is not None:
            await self._migrate(str(message.chat.id), str(message.migrate_to_chat_id))
            return []
        if message.chat.type not in GROUP_CHATS:
            await self._private(message)
            return []
        command = parse_command(message, self._bot_username())
        invoker = sender_of(message)  # an anonymous admin is the group, not a shared bot
        if command is not None and invoker is not None:
            role = await self._role(message)
            return [
                CommandInvoked(
                    place=place_of(message),
                    invoker=invoker,
                    name=command.name,
                    args=command.args,
                    sent_at=message.date,
                    invoker_role=role,
                    message_id=str(message.message_id),
                )
            ]
        return self._fresh_memberships(message_events(message))

    def _fresh_memberships(self, events: list[Event]) -> list[Event]:
        fresh: list[Event] = []
        for event in events:
            if isinstance(event, MemberJoined | MemberLeft):
                kind = "join" if isinstance(event, MemberJoined) else "leave"
                key = (event.group_id, event.member.user_id, kind)
                last = self._memberships.get(key)
                self._memberships[key] = event.at
                if last is not None and abs(event.at - last) < MEMBERSHIP_ECHO:
                    continue
            fresh.append(event)
        return fresh

    async def _migrate(self, old: str, new: str) -> None:
        if self._engine is not None:
            # The supergroup numbers messages from 1 again: the old ids move out of the way
            # as in Telegram Desktop's exports, so an imported history matches the live one.
            moved = await self._engine.services.directory.move_group(
                PLATFORM, old, new, message_id_shift=BASIC_GROUP_ID_SHIFT
            )
            logger.info("telegram: group %s became supergroup %s (moved: %s)", old, new, moved)

    async def _private(self, message: TgMessage) -> None:
        command = parse_command(message, self._bot_username())
        if command is None or message.from_user is None:
            return
        code = message.from_user.language_code or ""
        tr = translator(normalize_language(code) or self.default_language)
        chat = str(message.chat.id)
        engine = self._engine
        if engine is None:  # pragma: no cover - updates arrive only after run() set it
            return
        user = str(message.from_user.id)
        if command.name == "mydata":
            privacy = engine.feature(PrivacyFeature)
            if privacy is not None:
                path = await privacy.export_account(PLATFORM, user)
                try:
                    text = tr(N_("Here is everything Hearth stores about you."))
                    await self.perform(DirectMessage(PLATFORM, chat, text, file=str(path)))
                finally:
                    path.unlink(missing_ok=True)
                    path.parent.rmdir()
                return
        digest = engine.feature(DigestFeature)
        if digest is not None:
            answer = await digest.private_command(PLATFORM, user, command.name, command.args, tr)
            if answer is not None:
                await self.perform(DirectMessage(PLATFORM, chat, answer))
                return
        text = tr(
            N_(
                "Hi! I am Hearth, a community assistant. Add me to your group and make me an "
                "admin; then send /help in the group to see what I can do."
            )
        )
        await self.perform(DirectMessage(PLATFORM, chat, text))

    def _bot_username(self) -> str:
        application = self.application
        return application.bot.username if application is not None else ""

    async def _role(self, message: TgMessage) -> Role:
        """Admin/moderator status from getChatMember, cached for `admin_cache_seconds`."""
        chat = message.chat.id
        if message.sender_chat is not None and message.sender_chat.id == chat:
            return Role.ADMIN  # an anonymous group admin posting as the group
        user = message.from_user
        if user is None:
            return Role.MEMBER
        return await self.member_role(str(chat), str(user.id)) or Role.MEMBER

    async def member_role(self, group_id: str, user_id: str) -> Role | None:
        """Admin/moderator status from getChatMember, cached for `admin_cache_seconds`;
        None when Telegram cannot be asked."""
        if self.application is None:
            return None
        key = (int(group_id), int(user_id))
        now = self.clock.now()
        cached = self._roles.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await self.application.bot.get_chat_member(key[0], key[1])
        except TelegramError:
            logger.warning("telegram: getChatMember %s/%s failed", group_id, user_id)
            return None
        role = _role_of(member)
        ttl = timedelta(seconds=self.settings.admin_cache_seconds)
        self._roles[key] = (role, now + ttl)
        return role

    # ------------------------------------------------------------------ actions

    async def perform(self, action: Action) -> str | None:
        """Carry out one action (see `TelegramSender.perform`); returns the id of the (first)
        message sent. Platform refusals raise `DeliveryFailed`."""
        application = self.application
        if application is None:
            raise DeliveryFailed(action, DeliveryProblem.FAILED, "Telegram is not connected")
        return await self.sender.perform(application.bot, action)


def _role_of(member: ChatMember) -> Role:
    """Creator and admins who can change the group's info or promote are admins; other
    administrators are moderators; everyone else is a member."""
    if member.status == ChatMember.OWNER:
        return Role.ADMIN
    if member.status == ChatMember.ADMINISTRATOR:
        powerful = getattr(member, "can_change_info", False) or getattr(
            member, "can_promote_members", False
        )
        return Role.ADMIN if powerful else Role.MODERATOR
    return Role.MEMBER
