"""A fake Discord gateway and REST API (aiohttp on 127.0.0.1) for driving discord.py.

One guild with a #general channel (and a thread in it), a #mods channel and a few roles; or
several (``FakeDiscord(guilds=N)``, each with its own channels), split between the shards of a
sharded client as Discord does: guild ``g`` is on shard ``(g >> 22) % shard_count`` (with one
guild, every shard gets it, whatever its id). The gateway says HELLO, answers heartbeats,
answers IDENTIFY with READY and a GUILD_CREATE for each guild of the shard and RESUME with
RESUMED; tests then push events with `dispatch` (a guild's events reach only the connection
of its shard), and `reconnect` asks the client (or one shard) to reconnect (resuming or
identifying anew). Every message (dispatched, sent by the bot, or
`post`ed while the bot is away) is kept in its channel's history, which
``GET /channels/{id}/messages`` pages through with ``after``/``before``/``limit`` as Discord
does. Like Discord, it closes the connection with 4014 when
IDENTIFY asks for a privileged intent the application's flags do not grant, and blanks
message content when the Message Content intent was not asked for.

Every REST call is recorded with its decoded JSON (``payload_json`` for multipart uploads).
Unknown endpoints answer 404 so a missing stub fails loudly; `refuse` scripts an error for
calls matching a pattern. Responses are ``Content-Type: application/json`` exactly, as
discord.py requires.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 900000000000000010
GENERAL_ID = 900000000000000011
MODS_ID = 900000000000000012
THREAD_ID = 900000000000000013
ADMINS_ROLE_ID = 900000000000000020
REWARD_ROLE_ID = 900000000000000021
# Application flags and gateway intents involved in privileged access.
MESSAGE_CONTENT_LIMITED = 1 << 19
GUILD_MEMBERS_LIMITED = 1 << 15
INTENT_MEMBERS = 1 << 1
INTENT_MESSAGE_CONTENT = 1 << 15
#: What @everyone may do: view channels, send messages, read message history.
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16)
_DISCORD_EPOCH_MS = 1420070400000
_START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@dataclass
class Call:
    """One REST request the bot made."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[str] = field(default_factory=list)
    #: The audit log reason (``X-Audit-Log-Reason``), if one was given.
    reason: str | None = None


def user(user_id: int, name: str, *, bot: bool = False) -> JSON:
    """A user object."""
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def member(user_id: int, name: str, *, roles: tuple[int, ...] = (), bot: bool = False) -> JSON:
    """A guild member object (with its user)."""
    return {
        "user": user(user_id, name, bot=bot),
        "roles": [str(role) for role in roles],
        "joined_at": _START.isoformat(),
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


@dataclass(frozen=True)
class Guild:
    """One guild of the fake and its channels."""

    id: int
    general: int
    mods: int
    thread: int

    @classmethod
    def number(cls, n: int) -> Guild:
        """Guild `n` (0: the ids above); consecutive guilds alternate between two shards."""
        if n == 0:
            return cls(GUILD_ID, GENERAL_ID, MODS_ID, THREAD_ID)
        base = GUILD_ID + (n << 22)
        return cls(base, base + 1, base + 2, base + 3)

    def shard(self, count: int) -> int:
        """The shard this guild is on when a client runs `count` shards."""
        return (self.id >> 22) % count


def _channel(channel_id: int, name: str, guild_id: int = GUILD_ID, **extra: Any) -> JSON:
    return {
        "id": str(channel_id),
        "type": 0,
        "name": name,
        "guild_id": str(guild_id),
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        **extra,
    }


def _thread(guild: Guild | None = None) -> JSON:
    guild = guild or Guild.number(0)
    metadata = {"archived": False, "auto_archive_duration": 1440, "locked": False}
    return _channel(
        guild.thread,
        "questions",
        guild.id,
        type=11,
        parent_id=str(guild.general),
        owner_id="1",
        thread_metadata={**metadata, "archive_timestamp": _START.isoformat()},
        message_count=0,
        member_count=1,
    )


def _role(role_id: int, name: str, position: int, permissions: int = 0) -> JSON:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild_payload(guild: Guild | None = None) -> JSON:
    """The GUILD_CREATE payload of a test guild (the first one by default)."""
    guild = guild or Guild.number(0)
    name = "Hearth Test" if guild.id == GUILD_ID else f"Hearth Test {guild.id}"
    return {
        "id": str(guild.id),
        "name": name,
        "owner_id": "1",
        "unavailable": False,
        "large": False,
        "member_count": 1,
        "roles": [
            _role(guild.id, "@everyone", 0, EVERYONE_PERMISSIONS),
            _role(ADMINS_ROLE_ID, "Hearth Admins", 1),
            _role(REWARD_ROLE_ID, "Regular", 2),
        ],
        "channels": [
            _channel(guild.general, "general", guild.id),
            _channel(guild.mods, "mods", guild.id),
        ],
        "threads": [_thread(guild)],
        "members": [member(BOT_ID, "Hearth", bot=True)],
        "emojis": [],
        "stickers": [],
        "features": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "joined_at": _START.isoformat(),
        "mfa_level": 0,
        "verification_level": 0,
        "explicit_content_filter": 0,
        "default_message_notifications": 0,
        "system_channel_flags": 0,
        "nsfw_level": 0,
    }


def _response(body: Any, status: int = 200) -> web.Response:
    if body is None:
        return web.Response(status=204)
    return web.Response(
        status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


Handler = Callable[[re.Match[str], Call], Any]


class FakeDiscord:
    """The fake server; `start` it, point discord.py at `api_base` and `gateway_url`."""

    def __init__(
        self, *, flags: int = MESSAGE_CONTENT_LIMITED | GUILD_MEMBERS_LIMITED, guilds: int = 1
    ) -> None:
        self.flags = flags
        #: The guilds, the first one with the ids above.
        self.guilds = [Guild.number(n) for n in range(guilds)]
        self._guild_of = {
            channel: guild.id
            for guild in self.guilds
            for channel in (guild.general, guild.mods, guild.thread)
        }
        self.calls: list[Call] = []
        #: What GET /guilds/{id}/members/{user} answers, by user id (a plain member otherwise).
        self.members: dict[int, JSON] = {}
        #: Timeouts set with PATCH /guilds/{id}/members/{user}: user id → end (None: lifted).
        self.timeouts: dict[int, str | None] = {}
        #: Users banned from the guild (PUT adds, DELETE removes).
        self.bans: set[int] = set()
        #: The last IDENTIFY (of any connection).
        self.identify: JSON | None = None
        self._identifies: dict[int, JSON] = {}
        #: Every message of each channel (or thread) by channel id, oldest first.
        self.history: dict[int, list[JSON]] = {}
        #: How many IDENTIFY and RESUME the gateway answered.
        self.identified = 0
        self.resumed = 0
        self.sockets: list[web.WebSocketResponse] = []
        #: The shard each socket identified (or resumed) as: [id, count], or None unsharded.
        self._shards: dict[int, Any] = {}
        self._refusals: list[tuple[str, re.Pattern[str], int, JSON]] = []
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/users/@me"), lambda m, c: user(BOT_ID, "Hearth", bot=True)),
            ("GET", re.compile(r"/oauth2/applications/@me"), lambda m, c: self._application()),
            ("PUT", re.compile(r"/applications/\d+(/guilds/\d+)?/commands"), self._commands),
            ("POST", re.compile(r"/channels/(\d+)/messages"), self._message),
            ("GET", re.compile(r"/channels/(\d+)/messages"), self._history),
            ("PUT", re.compile(r"/channels/\d+/messages/\d+/reactions/[^/]+/@me"), _nothing),
            ("DELETE", re.compile(r"/channels/\d+/messages/\d+"), _nothing),
            ("POST", re.compile(r"/users/@me/channels"), self._dm_channel),
            ("GET", re.compile(r"/guilds/\d+/members/(\d+)"), self._member),
            ("PATCH", re.compile(r"/guilds/\d+/members/(\d+)"), self._edit_member),
            ("PUT", re.compile(r"/guilds/\d+/bans/(\d+)"), self._ban),
            ("DELETE", re.compile(r"/guilds/\d+/bans/(\d+)"), self._ban),
            ("PUT", re.compile(r"/guilds/\d+/members/\d+/roles/\d+"), _nothing),
            ("DELETE", re.compile(r"/guilds/\d+/members/\d+/roles/\d+"), _nothing),
            ("POST", re.compile(r"/interactions/(\d+)/[^/]+/callback"), self._callback),
            ("POST", re.compile(r"/webhooks/\d+/[^/]+"), self._followup),
            ("PATCH", re.compile(r"/webhooks/\d+/[^/]+/messages/@original"), self._followup),
            ("DELETE", re.compile(r"/webhooks/\d+/[^/]+/messages/@original"), _nothing),
        ]

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Close every socket and stop listening."""
        for socket in self.sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        """What `discord.http.Route.BASE` must be."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What `DiscordWebSocket.DEFAULT_GATEWAY` must be."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def snowflake(self, at: datetime | None = None) -> int:
        """A fresh id whose timestamp is the fake's clock (2026-01-05 12:00 UTC onwards), or
        `at` (ids made for one `at` still grow)."""
        count = next(self._ids)
        if at is None:
            millis = int(_START.timestamp() * 1000) - _DISCORD_EPOCH_MS + count
            return millis << 22
        millis = int(at.timestamp() * 1000) - _DISCORD_EPOCH_MS
        return (millis << 22) + count

    # ------------------------------------------------------------------ scripting

    def refuse(self, method: str, pattern: str, status: int, code: int, message: str) -> None:
        """Answer calls matching `method` and the path regex `pattern` with an error."""
        body = {"message": message, "code": code}
        self._refusals.append((method, re.compile(pattern), status, body))

    async def wait_for(
        self, method: str, pattern: str, *, count: int = 1, timeout: float = 3.0
    ) -> list[Call]:
        """Wait until `count` calls match `method` and the path regex `pattern`; return them."""
        regex = re.compile(pattern)

        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()

    def post(self, message: JSON) -> None:
        """Put a message in its channel's history without telling the gateway (it was sent
        while the bot was away)."""
        self.history.setdefault(int(message["channel_id"]), []).append(message)

    async def reconnect(self, *, resume: bool = True, shard: int | None = None) -> None:
        """Ask every connected client (or only shard `shard`) to reconnect: RECONNECT (it
        resumes) or an invalid session (it identifies again and gets a new READY)."""
        frame = {"op": 7, "d": None} if resume else {"op": 9, "d": False}
        for socket in list(self.sockets):
            identified = self._shards.get(id(socket))
            if shard is None or (identified is not None and identified[0] == shard):
                await socket.send_str(json.dumps(frame))

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send a gateway dispatch to the connection of the shard its guild is on (every
        connection for an event of no guild); content blanked without the intent. A message
        goes into its channel's history even when no connection receives it."""
        if event == "MESSAGE_CREATE":
            self.post(data)
        guild = data.get("guild_id")
        for socket in list(self.sockets):
            if guild is not None and int(guild) not in self._guilds_of(socket):
                continue
            sent = data
            if event == "MESSAGE_CREATE" and not self._granted(socket, INTENT_MESSAGE_CONTENT):
                sent = {**data, "content": "", "embeds": [], "attachments": []}
            await self._send(socket, event, sent)

    def connected(self, guild_id: int) -> int:
        """How many identified connections receive `guild_id`'s events."""
        return sum(1 for socket in self.sockets if guild_id in self._guilds_of(socket))

    def _guilds_of(self, socket: web.WebSocketResponse) -> set[int]:
        """The guilds a connection identified (or resumed) for: its shard's."""
        if id(socket) not in self._shards:
            return set()  # not identified yet
        shard = self._shards[id(socket)]
        if shard is None or len(self.guilds) == 1:
            return {guild.id for guild in self.guilds}
        return {guild.id for guild in self.guilds if guild.shard(shard[1]) == shard[0]}

    def _granted(self, socket: web.WebSocketResponse, intent: int) -> bool:
        identify = self._identifies.get(id(socket), self.identify)
        return identify is not None and bool(identify["intents"] & intent)

    # ------------------------------------------------------------------ payload builders

    def message(
        self,
        author: JSON,
        content: str,
        *,
        channel: int = GENERAL_ID,
        at: datetime | None = None,
        **extra: Any,
    ) -> JSON:
        """A MESSAGE_CREATE payload from `author` (a `member` object) in the guild, sent
        now (the fake's clock) or `at`."""
        return {
            "id": str(self.snowflake(at)),
            "channel_id": str(channel),
            "guild_id": str(self._guild_of.get(channel, GUILD_ID)),
            "author": author["user"],
            "member": {k: v for k, v in author.items() if k != "user"},
            "content": content,
            "timestamp": (at or _START).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            **extra,
        }

    def interaction(
        self,
        invoker: JSON,
        name: str,
        options: list[JSON] | None = None,
        *,
        permissions: int = 0,
        channel: int = GENERAL_ID,
        resolved: JSON | None = None,
    ) -> JSON:
        """An INTERACTION_CREATE payload for a guild slash command `/name` by `invoker`."""
        guild_id = self._guild_of.get(channel, GUILD_ID)
        guild = next(g for g in self.guilds if g.id == guild_id)
        if channel == guild.thread:
            channel_data = _thread(guild)
        else:
            channel_data = _channel(channel, "general", guild_id)
        return {
            "id": str(self.snowflake()),
            "application_id": str(APP_ID),
            "type": 2,
            "token": f"token-{next(self._ids)}",
            "version": 1,
            "guild_id": str(guild_id),
            "channel_id": str(channel),
            "channel": channel_data,
            "member": {**invoker, "permissions": str(permissions)},
            "data": {
                "id": str(self.snowflake()),
                "name": name,
                "type": 1,
                "guild_id": str(guild_id),
                "options": options or [],
                "resolved": resolved or {},
            },
            "app_permissions": "0",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }

    def _sent(self, channel_id: str, payload: JSON) -> JSON:
        """The message object Discord returns for a message the bot sent."""
        bot = member(BOT_ID, "Hearth", bot=True)
        message = self.message(bot, payload.get("content") or "", channel=int(channel_id))
        message["embeds"] = payload.get("embeds") or []
        return message

    # ------------------------------------------------------------------ REST

    def _application(self) -> JSON:
        return {
            "id": str(APP_ID),
            "name": "Hearth",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user(1, "owner"),
            "verify_key": "0" * 64,
            "flags": self.flags,
        }

    def _commands(self, match: re.Match[str], call: Call) -> Any:
        return [{**command, "id": str(self.snowflake())} for command in call.json]

    def _message(self, match: re.Match[str], call: Call) -> JSON:
        sent = self._sent(match.group(1), call.json or {})
        self.post(sent)
        return sent

    def _history(self, match: re.Match[str], call: Call) -> list[JSON]:
        """Like Discord: the `limit` (≤ 100) messages right after `after`, or right before
        `before` (or the newest), newest first."""
        messages = sorted(self.history.get(int(match.group(1)), []), key=lambda m: int(m["id"]))
        limit = max(1, min(100, int(call.query.get("limit", 50))))
        if "after" in call.query:
            after = int(call.query["after"])
            picked = [m for m in messages if int(m["id"]) > after][:limit]
        else:
            before = int(call.query.get("before", 1 << 63))
            picked = [m for m in messages if int(m["id"]) < before][-limit:]
        return picked[::-1]

    def _dm_channel(self, match: re.Match[str], call: Call) -> JSON:
        recipient = user(int(call.json["recipient_id"]), "someone")
        return {"id": str(self.snowflake()), "type": 1, "recipients": [recipient]}

    def _member(self, match: re.Match[str], call: Call) -> JSON:
        user_id = int(match.group(1))
        return self.members.get(user_id) or member(user_id, "someone")

    def _edit_member(self, match: re.Match[str], call: Call) -> JSON:
        user_id = int(match.group(1))
        edited = {**self._member(match, call)}
        if "communication_disabled_until" in call.json:
            edited["communication_disabled_until"] = call.json["communication_disabled_until"]
            self.timeouts[user_id] = call.json["communication_disabled_until"]
        return edited

    def _ban(self, match: re.Match[str], call: Call) -> None:
        user_id = int(match.group(1))
        if call.method == "PUT":
            self.bans.add(user_id)
        else:
            self.bans.discard(user_id)

    def _callback(self, match: re.Match[str], call: Call) -> JSON:
        kind = call.json["type"]
        data = call.json.get("data") or {}
        ephemeral = bool(data.get("flags", 0) & 64)
        interaction = {
            "id": match.group(1),
            "type": 2,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": ephemeral,
        }
        message = self._sent(str(GENERAL_ID), data)
        return {"interaction": interaction, "resource": {"type": kind, "message": message}}

    def _followup(self, match: re.Match[str], call: Call) -> JSON:
        return self._sent(str(GENERAL_ID), call.json or {})

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        call = Call(request.method, path, dict(request.query), None)
        if "X-Audit-Log-Reason" in request.headers:
            call.reason = urllib.parse.unquote(request.headers["X-Audit-Log-Reason"])
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            call.json = json.loads(str(form["payload_json"]))
            call.files = [
                str(getattr(v, "filename", "")) for k, v in form.items() if k != "payload_json"
            ]
        elif request.can_read_body:
            call.json = await request.json()
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        for method, pattern, status, body in self._refusals:
            if method == request.method and pattern.fullmatch(path):
                return _response(body, status)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if method == request.method and match:
                return _response(handler(match, call))
        return _response({"message": "404: Not Found", "code": 0}, 404)

    # ------------------------------------------------------------------ gateway

    async def _send(self, socket: web.WebSocketResponse, event: str, data: JSON) -> None:
        await socket.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for frame in socket:
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
                self.identified += 1
                await self._identified(socket, payload["d"])
            elif payload["op"] == 6:
                self.resumed += 1
                self._shards[id(socket)] = json.loads(payload["d"]["session_id"])
                await self._send(socket, "RESUMED", {})
        self.sockets.remove(socket)
        self._shards.pop(id(socket), None)
        self._identifies.pop(id(socket), None)
        return socket

    async def _identified(self, socket: web.WebSocketResponse, identify: JSON) -> None:
        self.identify = identify
        self._identifies[id(socket)] = identify
        privileged = ((INTENT_MESSAGE_CONTENT, 3 << 18), (INTENT_MEMBERS, 3 << 14))
        if any(identify["intents"] & intent and not self.flags & f for intent, f in privileged):
            await socket.close(code=4014, message=b"Disallowed intent(s).")
            return
        ready = {
            "v": 10,
            "user": user(BOT_ID, "Hearth", bot=True),
            "session_id": json.dumps(identify.get("shard")),  # RESUME tells the shard
            "resume_gateway_url": self.gateway_url,
            "guilds": [],
            "application": {"id": str(APP_ID), "flags": self.flags},
            "shard": identify.get("shard"),
        }
        self._shards[id(socket)] = identify.get("shard")
        guilds = [g for g in self.guilds if g.id in self._guilds_of(socket)]
        ready["guilds"] = [{"id": str(guild.id), "unavailable": True} for guild in guilds]
        await self._send(socket, "READY", ready)
        for guild in guilds:
            await self._send(socket, "GUILD_CREATE", guild_payload(guild))


def _nothing(match: re.Match[str], call: Call) -> None:
    return None
