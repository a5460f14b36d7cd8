"""The live stream: one websocket per page, carrying only its own user's events.

Consumers only authenticate and subscribe (events reach them through
``notifications.tasks.push_live``). A connection joins the group ``user-<id>`` of the signed-in
user and nothing else; asking for any other group closes it.
"""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from notifications.live import user_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

# The only keys a live event carries to the browser: ids and a count, never content.
LIVE_FIELDS = ("event", "application_id", "request_id", "unread")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

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
