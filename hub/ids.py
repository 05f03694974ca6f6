"""Ids of stored documents: ObjectId strings, time-ordered, unique across processes."""

from __future__ import annotations

from bson import ObjectId


def new_id() -> str:
    return str(ObjectId())
