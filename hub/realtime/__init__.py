"""The realtime layer: events numbered, stored and delivered to consoles in order, entitled and gap-free.

One concern per module, in the order an event travels:
`publish` (the event log and the one publish path) -> `sequence` (per-company seq numbers) ->
`bus` (fan-out between processes) -> `stream` (per-company ordering, pure) -> `delivery` (gap reads,
catch-up, replay, send) -> consoles. `connections` admits consoles (Socket.IO connect, auth,
disconnect); `ephemeral` carries typing, viewing and presence signals (never stored); `wallboards`
sends wall displays their snapshots; `server` assembles them in one step.

Delivery knows no event type: what an event does to a connection (revoke a thread, close a member's
consoles) is data the domain attaches to the event's audience (`schemas.events.Audience`).
"""
