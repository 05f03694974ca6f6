"""General and internal contacts, their export, and their imports (hub.contacts, hub.contact_import)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import cast
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hub import sheets
from hub.api.routing import ApiRoute, QueryParam, principal, query_int, query_text, reply, runtime
from schemas.contacts import Contact, ContactCreate, ContactPage, ContactUpdate, InternalContactList

SEARCH = QueryParam("q", "string", "A name (any part) or a phone number in any form (0912…, 84912…, +84912…)")
LANG = QueryParam("lang", "string", "The language of the sheet's header", enum=("vi", "en"), default="vi")

# The export's columns: the import reads these headers back (hub.contact_import.COLUMNS).
HEADER: dict[sheets.Lang, tuple[str, ...]] = {
    "vi": ("Tên", "Số điện thoại", "Email", "Địa chỉ", "Ghi chú", "Tạo lúc", "Người tạo"),
    "en": ("Name", "Phone", "Email", "Address", "Note", "Created at", "Created by"),
}


async def list_contacts(request: Request) -> Response:
    contacts, next_before = await runtime(request).contacts.page(
        principal(request), query_text(request, "q"), query_int(request, "limit"), query_text(request, "before")
    )
    return reply(ContactPage(contacts=contacts, next_before=next_before))


async def create_contact(request: Request, body: ContactCreate) -> Response:
    return reply(await runtime(request).contacts.create(principal(request), body), status=201)


async def get_contact(request: Request) -> Response:
    return reply(await runtime(request).contacts.get(principal(request), request.path_params["contact_id"]))


async def update_contact(request: Request, body: ContactUpdate) -> Response:
    contact = await runtime(request).contacts.update(principal(request), request.path_params["contact_id"], body)
    return reply(contact)


async def delete_contact(request: Request) -> Response:
    await runtime(request).contacts.delete(principal(request), request.path_params["contact_id"])
    return Response(status_code=204)


async def internal_contacts(request: Request) -> Response:
    return reply(InternalContactList(contacts=await runtime(request).contacts.internal(principal(request))))


async def export_contacts(request: Request) -> Response:
    hub = runtime(request)
    actor = principal(request)
    company = await hub.directory.company(actor)
    members = await hub.directory.member_names(actor)
    lang = cast(sheets.Lang, query_text(request, "lang"))
    zone = ZoneInfo(company.timezone)

    async def rows() -> AsyncIterator[Sequence[sheets.Cell]]:
        async for contact in hub.contacts.each(actor, query_text(request, "q")):
            yield (
                contact.name,
                ", ".join(contact.phones),
                contact.email,
                contact.address,
                contact.note,
                contact.created_at.astimezone(zone),
                members.get(contact.created_by or "", ""),
            )

    day = hub.clock.now().astimezone(zone).date().isoformat()
    return sheets.sheet_response(f"contacts-{day}", "xlsx", HEADER[lang], rows())


ROUTES = [
    ApiRoute(
        "GET",
        "/api/contacts",
        list_contacts,
        "General contacts, newest first; search by name or by any form of a phone number",
        response=ContactPage,
        query=(
            SEARCH,
            QueryParam("limit", "integer", "At most this many (up to 200)", default=50),
            QueryParam("before", "string", "next_before of the previous page: contacts older than it"),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/contacts",
        create_contact,
        "Add a contact (409 when one of its numbers is another contact's; 422 naming a number that is none)",
        request=ContactCreate,
        response=Contact,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "GET",
        "/api/contacts/internal",
        internal_contacts,
        "The company's members as internal contacts: name, extension, department",
        response=InternalContactList,
    ),
    ApiRoute(
        "GET",
        "/api/contacts/export.xlsx",
        export_contacts,
        "The contacts of a search as an Excel (.xlsx) file, streamed (its columns import back as they are)",
        query=(SEARCH, LANG),
    ),
    ApiRoute("GET", "/api/contacts/{contact_id}", get_contact, "One contact", response=Contact),
    ApiRoute(
        "PATCH",
        "/api/contacts/{contact_id}",
        update_contact,
        "Change a contact (phones replaces the list; 409 when a number is another contact's)",
        request=ContactUpdate,
        response=Contact,
        publishes=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/contacts/{contact_id}",
        delete_contact,
        "Delete a contact (owners, managers)",
        status=204,
        publishes=True,
    ),
]
