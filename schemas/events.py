"""The audience an event is published to (the envelope itself is documented in DESIGN section 5)."""
from __future__ import annotations

from pydantic import BaseModel, Field

from schemas.directory import Role


class Audience(BaseModel):
    """Who may receive an event: named members, and everyone holding one of the roles.

    Computed by the domain code next to the change, stored with the event, and checked for each
    console at push time and at replay.
    """

    members: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    # The thread an event is about: a console that was told thread.removed for it receives no more of
    # it through `members` until it is assigned the thread again (checked at push time, in seq order).
    thread_id: str | None = None
    # Wallboard displays receive only events published for them (masked, never chat content).
    wallboards: bool = False

