"""Prometheus metrics of this process (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS = Counter("hub_webhooks_total", "Webhooks received", ["source", "outcome"])
EVENTS_PUBLISHED = Counter("hub_events_published_total", "Events stored and published", ["type"])
EVENTS_DELIVERED = Counter("hub_events_delivered_total", "Event deliveries to consoles (live and replay)", ["path"])
CONSOLES = Gauge("hub_consoles_connected", "Socket.IO consoles connected to this process")
DELIVERY_LAG = Histogram(
    "hub_delivery_lag_seconds",
    "From an event's commit time to its live send to a console",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GAPS_FILLED = Counter("hub_gap_events_read_total", "Events read back from the log because the bus had not brought them")
HOLES = Counter("hub_seq_holes_total", "Seq numbers never committed (given up on after the hole timeout)")
REPLAYS = Counter("hub_replays_total", "Console replays after a reconnect, by where the events came from", ["source"])
