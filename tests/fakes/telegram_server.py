"""A fake Telegram Bot API server (aiohttp on 127.0.0.1) for driving python-telegram-bot.

Tests push updates; long polling hands them out by offset. Every call is recorded with its
parameters decoded (PTB posts forms: scalars arrive as strings, structured fields as JSON).
Unknown methods answer 404 so a missing stub fails loudly. Responses can be scripted per
method (e.g. a 429 with retry_after, a 409 Conflict) to test error handling, slowed down
(`latency`, as a distant API is), and the token changed (`revoke`) to answer 401 from then on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000
BOT_USERNAME = "hearth_test_bot"

JSON = dict[str, Any]


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: JSON


@dataclass
class FakeTelegram:
    """State and handlers of the fake Bot API."""

    token: str = "123:TEST"
    can_read_all_group_messages: bool = True
    statuses: dict[tuple[int, int], JSON] = field(default_factory=dict)
    #: The default member permissions getChat reports, by chat (none reported if absent).
    permissions: dict[int, JSON] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    scripted: dict[str, list[tuple[int, JSON]]] = field(default_factory=dict)
    #: How many more calls of a method are answered by closing the connection.
    dropped: dict[str, int] = field(default_factory=dict)
    blocked_users: set[int] = field(default_factory=set)
    updates: list[JSON] = field(default_factory=list)
    #: The highest offset a getUpdates call sent: every update below it is confirmed.
    confirmed: int = 0
    #: Seconds to wait before answering each call of a method.
    latency: dict[str, float] = field(default_factory=dict)
    base_url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ test API

    async def push(self, update: JSON) -> int:
        """Queue an update (an `update_id` is assigned); returns its id."""
        update = {"update_id": next(self._ids), **update}
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return int(update["update_id"])

    def script(self, method: str, status: int, body: JSON) -> None:
        """Answer the next call of `method` with `status` and `body` instead of the default."""
        self.scripted.setdefault(method, []).append((status, body))

    def revoke(self) -> None:
        """The token is revoked (as in @BotFather): every call answers 401 from now on."""
        self.token = self.token + ":revoked"

    def unconfirmed(self) -> list[JSON]:
        """Updates queued that no getUpdates call has confirmed yet."""
        return [u for u in self.updates if u["update_id"] >= self.confirmed]

    def drop(self, method: str, times: int = 1) -> None:
        """Close the connection instead of answering the next `times` calls of `method`."""
        self.dropped[method] = self.dropped.get(method, 0) + times

    def set_status(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """What getChatMember answers for a user in a chat."""
        self.statuses[(chat_id, user_id)] = {"status": status, **rights}

    def sent(self, method: str) -> list[JSON]:
        """Parameters of every call of `method` so far."""
        return [call.params for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        """Wait until `method` has been called `count` times; return those calls."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent(method)) >= count)
        return self.sent(method)

    async def drained(self, timeout: float = 5.0) -> None:
        """Wait until the bot has fetched and confirmed every queued update."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: not self.updates)

    # ------------------------------------------------------------------ server

    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 on `port` (a free one by default); returns the base URL for
        PTB (`…/bot`)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    params[part.name] = {"file": part.filename}  # type: ignore[union-attr,index]
                else:
                    params[part.name] = await part.text()  # type: ignore[union-attr,index]
        elif request.can_read_body:
            params.update(await request.post())
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        if method != "getUpdates" or self.scripted.get(method):
            async with self._changed:
                self.calls.append(Call(method, params))
                self._changed.notify_all()
        if self.latency.get(method):
            await asyncio.sleep(self.latency[method])
        if self.dropped.get(method):
            self.dropped[method] -= 1
            if request.transport is not None:
                request.transport.abort()  # the client sees the connection reset mid-request
            raise web.HTTPServiceUnavailable()  # never sent: the connection is gone
        if self.scripted.get(method):
            status, body = self.scripted[method].pop(0)
            return web.json_response(body, status=status)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": f"Not Found: {method}"}, status=404
            )
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------------ methods

    async def _m_getMe(self, params: JSON) -> JSON:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Hearth",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            self.confirmed = max(self.confirmed, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self.calls.append(Call("getUpdates", params))
            self._changed.notify_all()
            if not self.updates and timeout:
                try:
                    async with asyncio.timeout(min(timeout, 0.2)):
                        await self._changed.wait_for(lambda: bool(self.updates))
                except TimeoutError:
                    pass
            return list(self.updates)

    async def _true(self, params: JSON) -> bool:
        return True

    _m_deleteWebhook = _true
    _m_setWebhook = _true
    _m_setMyCommands = _true
    _m_setMessageReaction = _true
    _m_close = _true
    _m_deleteMessage = _true
    _m_restrictChatMember = _true
    _m_banChatMember = _true
    _m_unbanChatMember = _true

    async def _m_getChat(self, params: JSON) -> JSON:
        chat_id = int(params["chat_id"])
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        info: JSON = {
            "id": chat_id,
            "type": "supergroup" if chat_id < 0 else "private",
            "title": "fake",
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**dict.fromkeys(gifts, True), "gifts_from_channels": True},
        }
        if chat_id in self.permissions:
            info["permissions"] = self.permissions[chat_id]
        return info

    async def _m_getChatMember(self, params: JSON) -> JSON:
        chat, user = int(params["chat_id"]), int(params["user_id"])
        status = self.statuses.get((chat, user), {"status": "member"})
        return {
            "user": {"id": user, "is_bot": False, "first_name": f"user{user}"},
            "until_date": None,
            **_rights(status),
        }

    def _message(self, params: JSON, **content: Any) -> JSON:
        chat_id = int(params["chat_id"])
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {
                "id": chat_id,
                "type": "supergroup" if chat_id < 0 else "private",
                "title": "fake",
            },
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Hearth",
                "username": BOT_USERNAME,
            },
            **content,
        }
        if "message_thread_id" in params:
            message["message_thread_id"] = int(params["message_thread_id"])
        return message

    def _forbidden_dm(self, params: JSON) -> web.Response | None:
        if int(params["chat_id"]) in self.blocked_users:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot can't initiate conversation with a user",
                },
                status=403,
            )
        return None

    async def _m_sendMessage(self, params: JSON) -> JSON | web.Response:
        return self._forbidden_dm(params) or self._message(params, text=params["text"])

    async def _m_sendPhoto(self, params: JSON) -> JSON | web.Response:
        refused = self._forbidden_dm(params)
        return refused or self._message(
            params, photo=[{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]
        )

    async def _m_sendDocument(self, params: JSON) -> JSON | web.Response:
        refused = self._forbidden_dm(params)
        return refused or self._message(
            params,
            document={
                "file_id": "d1",
                "file_unique_id": "u2",
                "file_name": params.get("document", {}).get("file", ""),
            },
        )

    async def _m_sendPoll(self, params: JSON) -> JSON:
        options = [
            {
                "text": o["text"] if isinstance(o, dict) else o,
                "voter_count": 0,
                "persistent_id": o if isinstance(o, str) else o["text"],
            }
            for o in params["options"]
        ]
        poll = {
            "id": "poll1",
            "question": params["question"],
            "options": options,
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return self._message(params, poll=poll)


def _rights(status: JSON) -> JSON:
    """Fill the fields PTB needs for each ChatMember kind."""
    kind = status["status"]
    if kind == "administrator":
        names = (
            "can_be_edited",
            "is_anonymous",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        )
        return {"status": kind, **{name: bool(status.get(name, False)) for name in names}}
    if kind == "creator":
        return {"status": kind, "is_anonymous": False}
    return {"status": kind}
