"""One event to many consoles of this process: encoded once, queued on each socket directly.

python-socketio's `emit(to=[...])` encodes once too, but starts one asyncio task per recipient to
queue the packet; with hundreds of wall displays that is most of the cost of a delivery. Queueing
on an Engine.IO socket never waits (its queue is unbounded), so here each recipient costs one
lookup and one `send_packet`. Uses three python-socketio internals (`packet_class`, the manager's
`eio_sid_from_sid`, `eio.send_packet`): tests/test_bus_contract.py checks they are still there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

NAMESPACE = "/"


async def send(sio: socketio.AsyncServer, sids: Iterable[str], event: str, data: Any) -> None:
    encoded = sio.packet_class(packet.EVENT, namespace=NAMESPACE, data=[event, data]).encode()
    if isinstance(encoded, list):  # binary attachments (the hub sends none): python-socketio's own path
        await sio.emit(event, data, to=list(sids), ignore_queue=True)
        return
    shared = eio_packet.Packet(eio_packet.MESSAGE, encoded)
    for sid in sids:
        eio_sid = sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        if eio_sid is not None:  # gone meanwhile
            await sio.eio.send_packet(eio_sid, shared)
