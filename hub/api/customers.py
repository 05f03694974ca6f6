"""The customer page (one customer per phone number) and the phone an agent types on a thread."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.api.routing import ApiRoute, principal, reply, runtime
from hub.threads import summary
from schemas.chat import ThreadSummary
from schemas.customers import CustomerPage, CustomerPhone


async def set_customer_phone(request: Request, typed: CustomerPhone) -> Response:
    thread = await runtime(request).customers.set_phone(
        principal(request), request.path_params["thread_id"], typed.phone
    )
    return reply(summary(thread))


async def customer_page(request: Request) -> Response:
    page = await runtime(request).customers.page(principal(request), request.path_params["phone"])
    # A section the reader may not see is left out of the answer, not sent empty.
    return JSONResponse(page.model_dump(mode="json", exclude_unset=True))


ROUTES = [
    ApiRoute(
        "PUT",
        "/api/threads/{thread_id}/customer-phone",
        set_customer_phone,
        "Set the thread's customer phone as the agent typed it (any form; 422 for an impossible number): "
        "it joins the thread to the customer page of that number",
        request=CustomerPhone,
        response=ThreadSummary,
        publishes=True,
    ),
    ApiRoute(
        "GET",
        "/api/customers/{phone}",
        customer_page,
        "One customer by phone number (any form; the answer is keyed by E.164): the contact, and the threads, "
        "calls, consent requests and (for roles that use ZNS) ZNS messages the reader may see, newest first, "
        "each section with `more` when its own list holds more",
        response=CustomerPage,
        errors=(400, 401, 404, 422),
    ),
]
