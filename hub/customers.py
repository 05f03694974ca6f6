"""One customer per phone number: the agent-typed phone of a thread, and the customer page that joins by it.

A customer is a phone number in E.164 (hub.phones.e164); every record that names one is joined on it:
the general contact (`contacts.phones_e164`), Zalo threads (`customer.phone_e164`, from user_submit_info,
a shared business card, or the number an agent typed here), calls from or to it (`from_e164`,
`to_e164`), ZNS messages and ZCC consent requests (`phone`, in Zalo's 84… form).

Visibility is exactly the existing lists': each section is read through the list it belongs to
(Threads.list, Calls.history, Consents.each, Zns.each) with its phone filter, so a customer page never
shows a reader more than those lists do. ZNS is a section only for the roles that may use ZNS
(rulebook); a section the reader may not see is absent, not an error. The contact is company-wide.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from pymongo import ASCENDING

from hub import call_customers, rulebook
from hub.auth import Principal
from hub.calls import CallFilter, Calls
from hub.changes import done
from hub.consents import Consents
from hub.errors import Unprocessable
from hub.phones import e164
from hub.store import Store
from hub.threads import Threads
from hub.zns import Zns
from schemas.customers import (
    CallSection,
    CustomerContact,
    CustomerOa,
    CustomerPage,
    RecordSection,
    ThreadSection,
)

SECTION_LIMIT = 20  # per section, newest first; `more` says the section's own list holds more
PHONE_SOURCE_AGENT = "agent"


def customer_number(raw: str) -> str:
    """The customer's number in E.164, or 422 saying what a number looks like."""
    normal = e164(raw)
    if normal is None:
        raise Unprocessable(
            "phone: not a possible phone number; type it as 0912345678, 84912345678 or +84912345678",
            "invalid_phone",
            details={"field": "phone"},
        )
    return normal


async def _first(records: AsyncIterator[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The first `limit` records of a newest-first iterator, and whether there are more."""
    taken: list[dict[str, Any]] = []
    async for record in records:
        if len(taken) == limit:
            close = getattr(records, "aclose", None)  # its cursor, now rather than when collected
            if close is not None:
                await close()
            return taken, True
        taken.append(record)
    return taken, False


class Customers:
    def __init__(self, store: Store, threads: Threads, calls: Calls, consents: Consents, zns: Zns) -> None:
        self._store = store
        self._threads = threads
        self._calls = calls
        self._consents = consents
        self._zns = zns

    async def set_phone(self, actor: Principal, thread_id: str, raw: str) -> dict[str, Any]:
        """The phone an agent typed for a thread's customer (whoever may see the thread may set it): stored
        as user_submit_info stores one, with `phone_source` "agent", and thread.updated published."""
        phone = raw.strip()
        normal = customer_number(phone)
        thread = await self._threads.visible_or_redone(actor, thread_id, "thread")
        customer = thread.get("customer") or {}
        same = customer.get("phone") == phone and customer.get("phone_e164") == normal
        if same and not done(thread, "thread"):
            return thread
        after = await self._threads.update(
            thread,
            {
                "$set": {
                    "customer.phone": phone,
                    "customer.phone_e164": normal,
                    "customer.phone_source": PHONE_SOURCE_AGENT,
                }
            },
        )
        await self._threads.publish(thread, after)
        return after

    async def page(self, actor: Principal, raw: str) -> CustomerPage:
        phone = customer_number(raw)
        threads, calls, (consents, more_consents), contact, oas = await asyncio.gather(
            self._threads.list(actor, phone=phone, limit=SECTION_LIMIT + 1),
            self._calls.history(actor, CallFilter(phone=phone), limit=SECTION_LIMIT),
            _first(self._consents.each(actor, {"phone": phone}), SECTION_LIMIT),
            self._contact(actor, phone),
            self._oas(actor),
        )
        await call_customers.link(self._threads, actor, calls.calls)
        name = (
            contact.name
            if contact and contact.name
            else next((t.customer.name for t in threads if t.customer.name), None)
        )
        page: dict[str, Any] = {
            "phone": phone,
            "zalo_phone": phone[1:],
            "name": name,
            "contact": contact,
            "oas": oas,
            "may_send_zns": rulebook.may(actor.role, rulebook.Action.zns),
            "threads": ThreadSection(items=threads[:SECTION_LIMIT], more=len(threads) > SECTION_LIMIT),
            "calls": CallSection(items=calls.calls, more=calls.next_before is not None),
            "consents": RecordSection(items=consents, more=more_consents),
        }
        if page["may_send_zns"]:
            messages, more = await _first(self._zns.each(actor, {"phone": phone}), SECTION_LIMIT)
            page["zns"] = RecordSection(items=messages, more=more)
        return CustomerPage(**page)

    async def _contact(self, actor: Principal, phone: str) -> CustomerContact | None:
        """The general contact with this number (the contacts list's collection; the oldest if several)."""
        doc = await self._store.db["contacts"].find_one(
            {"company_id": actor.company_id, "phones_e164": phone}, sort=[("created_at", ASCENDING)]
        )
        if doc is None:
            return None
        return CustomerContact(id=doc["_id"], **{k: v for k, v in doc.items() if k in CustomerContact.model_fields})

    async def _oas(self, actor: Principal) -> list[CustomerOa]:
        """The company's active OAs by name: what a ZCC request or a ZNS message is sent through."""
        cursor = self._store.oa_links.find(
            {"company_id": actor.company_id, "status": "active"}, {"oa_id": 1, "name": 1}
        ).sort("created_at", ASCENDING)
        return [CustomerOa(oa_id=doc["oa_id"], name=doc.get("name") or doc["oa_id"]) async for doc in cursor]
