"""hub/realtime/bus.py overrides two internals of python-socketio's Redis manager; a release that renames
or reshapes them would silently stop the bus. This fails first (pyproject.toml also pins below the next
major)."""

from __future__ import annotations

import inspect

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from hub.realtime.bus import LocalBus, RedisBus


def test_the_redis_manager_still_has_the_methods_the_bus_overrides() -> None:
    for name, parameters in (("_handle_emit", ["self", "message"]), ("_redis_connect", ["self"])):
        original = getattr(socketio.AsyncRedisManager, name, None)
        assert original is not None, f"python-socketio no longer has AsyncRedisManager.{name}"
        assert list(inspect.signature(original).parameters) == parameters, f"{name} changed its signature"
        assert getattr(RedisBus, name) is not original, f"RedisBus no longer overrides {name}"
    assert inspect.iscoroutinefunction(socketio.AsyncRedisManager._handle_emit)
    assert not inspect.iscoroutinefunction(socketio.AsyncRedisManager._redis_connect)


def test_the_redis_manager_still_reads_the_room_from_the_message() -> None:
    """The bus recognises its own messages by message["room"] in _handle_emit: python-socketio's pub/sub
    message must still carry the room under that key."""
    source = inspect.getsource(AsyncPubSubManager.emit)
    assert "'room': room" in source or '"room": room' in source


def test_both_buses_speak_the_same_protocol() -> None:
    for bus in (LocalBus, RedisBus):
        assert callable(bus.publish) and callable(bus.listen)


def test_the_server_still_has_what_the_fan_out_uses() -> None:
    """hub/realtime/fanout.py queues one encoded packet on each socket through these internals."""
    sio = socketio.AsyncServer(async_mode="asgi")
    assert hasattr(sio, "packet_class") and inspect.iscoroutinefunction(sio.eio.send_packet)
    assert list(inspect.signature(sio.eio.send_packet).parameters) == ["sid", "pkt"]
    assert list(inspect.signature(sio.manager.eio_sid_from_sid).parameters) == ["sid", "namespace"]
