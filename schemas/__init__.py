"""Pydantic models of everything that crosses the hub's edges: webhooks, events, REST bodies, stored documents."""
