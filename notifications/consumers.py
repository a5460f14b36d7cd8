"""The live stream: one websocket per page, carrying only its own user's events.

Consumers only authenticate and subscribe (events reach them from ``notifications.live``,
published by the committing process, or by ``notifications.tasks.push_live`` when it could
not). A connection joins the group ``user-<id>`` of the signed-in user and nothing else;
asking for any other group closes it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from notifications.live import user_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# The channel layer (Redis) failed: "try again later", and live.js does, with backoff.
CLOSE_TRY_AGAIN_LATER = 1013
LAYER_LOST_REASON = "live updates interrupted, reconnect"

logger = logging.getLogger(__name__)

# The only keys a live event carries to the browser: ids and a count, never content.
LIVE_FIELDS = ("event", "application_id", "request_id", "unread")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    accepted = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except RedisError as error:
            # A socket that outlived its channel layer would never hear of a change again:
            # close it with a code the page answers by reconnecting (and refetching what it
            # missed), instead of dropping the connection with a traceback for every page.
            logger.warning("Live socket closed, the channel layer failed: %s", error)
            if not self.accepted:
                await send({"type": "websocket.accept"})
            await send(
                {
                    "type": "websocket.close",
                    "code": CLOSE_TRY_AGAIN_LATER,
                    "reason": LAYER_LOST_REASON,
                }
            )

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept only to close with a code the page can read (a refused handshake reaches
            # the browser as a bare 1006), so live.js stops reconnecting. No group is joined.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        # Malformed or binary frames are refused like any other request, not crashed on.
        try:
            content = json.loads(text_data) if text_data else None
        except ValueError:
            content = None
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Clients may only (re)subscribe to their own group, which they are already in."""
        own = self.group is not None and isinstance(content, dict)
        if own and content.get("subscribe") == self.group:
            await self.send_json({"subscribed": self.group})
            return
        await self.send_json({"error": "forbidden"})
        await self.close(code=CLOSE_FORBIDDEN)

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send_json({field: message.get(field) for field in LIVE_FIELDS})
