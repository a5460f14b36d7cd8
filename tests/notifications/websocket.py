"""``channels.testing.WebsocketCommunicator``, importable without daphne.

``channels/testing/__init__.py`` also imports ``ChannelsLiveServerTestCase``, which needs the
daphne server; Talaan does not depend on daphne and the communicator itself needs only
asgiref. When daphne is missing, import the communicator's own module without that
``__init__``. Once daphne is installed this is a plain import.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import channels


def _communicator_class() -> type:
    try:
        from channels.testing import WebsocketCommunicator

        return WebsocketCommunicator
    except ModuleNotFoundError as exc:
        if exc.name != "daphne" and not (exc.name or "").startswith("daphne."):
            raise
    package = types.ModuleType("channels.testing")
    package.__path__ = [str(Path(channels.__file__).parent / "testing")]
    sys.modules["channels.testing"] = package
    return importlib.import_module("channels.testing.websocket").WebsocketCommunicator


WebsocketCommunicator = _communicator_class()
