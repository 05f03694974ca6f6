"""ZNS templates: the OA's template list and a template's parameters, fetched from Zalo on demand and kept.

Kept in `zns_templates`, one document per (OA link, template id), beside what the template-status
webhook writes there (hub.zns.on_template_status: `previous_status`, `reason`, `changed_at`, and
`status`, which a fetch refreshes with Zalo's current word). A fetch that Zalo refuses or cannot
answer gives the templates kept from the last fetch with Zalo's error beside them, so the picker still
works; a template's detail is answered from the kept one only when Zalo fails and it was fetched before.
Only the roles that may use ZNS read them (rulebook).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from clients.zalo import ZaloError
from hub import rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import HubError, NotFound
from hub.ids import new_id
from hub.oa_links import OaLinks
from hub.store import Store

PAGE = 100  # Zalo's largest page (reference section 10)
MAX_PAGES = 50  # 5,000 templates: far beyond any OA's
TEMPLATE_UNKNOWN = -109  # reference section 11: a template id Zalo does not know
OTP_TIMEOUT_MS = 15_000  # reference section 10: an OTP template's Z-time


class ZaloRefused(HubError):
    """Zalo refused or did not answer, and nothing kept can stand in."""

    status, code = 502, "zalo_error"


def _otp(tag: Any, timeout: Any) -> bool:
    """Reference section 10 (UNCERTAIN there): OTP if tagged so or its Z-time is at most 15 s."""
    return str(tag or "").upper() == "OTP" or (isinstance(timeout, int | float) and 0 < timeout <= OTP_TIMEOUT_MS)


# What a template is, for the list: Zalo's `templateType` when an answer carries it (the create API's
# numbers, reference section 10; UNCERTAIN whether template/info returns it), else OTP from its tag or
# Z-time, else an ordinary text template.
TEMPLATE_TYPES = {1: "text", 2: "otp", 3: "payment", 4: "voucher", 5: "rating"}


def template_type(doc: dict[str, Any]) -> str | None:
    """None until the template's detail was read (the list gives no tag, Z-time or type)."""
    raw = doc.get("template_type")
    if isinstance(raw, int | str) and str(raw).isdigit() and int(raw) in TEMPLATE_TYPES:
        return TEMPLATE_TYPES[int(raw)]
    if "params" not in doc:
        return None
    return "otp" if _otp(doc.get("tag"), doc.get("timeout")) else "text"


def _created(value: Any) -> datetime | None:
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    return None


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """A template as the picker lists it."""
    return {
        "template_id": doc["template_id"],
        "name": doc.get("name"),
        "status": doc.get("status"),
        "quality": doc.get("quality"),
        "type": template_type(doc),
        "created_at": doc.get("zalo_created_at"),
    }


def detail(doc: dict[str, Any]) -> dict[str, Any]:
    """A template with what sending it takes: `listParams` as Zalo gives them (name, require, type,
    maxLength, minLength, acceptNull), whether it is an OTP template, its buttons and price."""
    return {
        **summary(doc),
        "oa_id": doc.get("oa_id"),
        "reason": doc.get("reason"),
        "tag": doc.get("tag"),
        "timeout": doc.get("timeout"),
        "otp": _otp(doc.get("tag"), doc.get("timeout")),
        "preview_url": doc.get("preview_url"),
        "price": doc.get("price"),
        "price_sdt": doc.get("price_sdt"),
        "price_uid": doc.get("price_uid"),
        "listParams": doc.get("params") or [],
        "listButtons": doc.get("buttons") or [],
        "fetched_at": doc.get("detail_at"),
    }


def price_of(template: dict[str, Any], channel: str = "phone") -> float | None:
    """What Zalo charges for one message of the template (VND): `price_sdt` by phone, `price_uid` by user id,
    else `price` (reference section 10; the prices come as strings in Zalo's samples)."""
    raw = template.get("price_sdt" if channel == "phone" else "price_uid") or template.get("price")
    try:
        return float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def data_problems(params: list[dict[str, Any]], data: dict[str, Any]) -> list[str]:
    """What Zalo would refuse in `template_data`, by the template's `listParams`: a required parameter
    missing or empty, a value shorter or longer than its limits. Keys the template does not name are left
    to Zalo (UNCERTAIN whether it ignores or refuses them)."""
    problems = []
    for param in params:
        name = param["name"]
        value = data.get(name)
        text = "" if value is None else str(value)
        if not text:
            if param.get("require") and not param.get("acceptNull"):
                problems.append(f"template_data.{name} is required")
            continue
        longest, shortest = param.get("maxLength"), param.get("minLength")
        if isinstance(longest, int) and longest > 0 and len(text) > longest:
            problems.append(f"template_data.{name} is longer than {longest} characters")
        if isinstance(shortest, int) and len(text) < shortest:
            problems.append(f"template_data.{name} is shorter than {shortest} characters")
    return problems


def _params(raw: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": str(p["name"]),
            "require": bool(p.get("require")),
            "type": p.get("type"),
            "maxLength": p.get("maxLength"),
            "minLength": p.get("minLength"),
            "acceptNull": p.get("acceptNull"),
        }
        for p in (raw if isinstance(raw, list) else [])
        if isinstance(p, dict) and p.get("name")
    ]


class ZnsTemplates:
    def __init__(self, store: Store, clock: Clock, links: OaLinks) -> None:
        self._templates = store.zns_templates
        self._links_coll = store.oa_links
        self._clock = clock
        self._links = links

    async def _link(self, actor: Principal, oa_id: str | None) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.zns)
        link = await self._links_coll.find_one({"company_id": actor.company_id, "oa_id": oa_id, "status": "active"})
        if not oa_id or link is None:
            raise NotFound("no active OA link with that oa_id; pick one of the company's OAs", "oa_link_not_found")
        return link

    async def _keep(self, link: dict[str, Any], template_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Upsert one template's fields, leaving the status webhook's own fields as they are."""
        key = {"link_id": link["_id"], "template_id": template_id}
        try:
            await self._templates.insert_one(
                {**key, "_id": new_id(), "company_id": link["company_id"], "oa_id": link["oa_id"]}
            )
        except DuplicateKeyError:
            pass
        await self._templates.update_one(key, {"$set": {"oa_id": link["oa_id"], **fields}})
        return await self._templates.find_one(key) or {**key, **fields}

    def _page(self, offset: int) -> Callable[[str], Awaitable[tuple[list[dict[str, Any]], int]]]:
        return lambda token: self._links.zalo.zns_templates(token, offset, PAGE)

    async def list(self, actor: Principal, oa_id: str | None) -> dict[str, Any]:
        """Every template of the OA, fetched from Zalo now (all pages) and kept; on Zalo's failure the kept
        ones, with `zalo_error` saying what went wrong."""
        link = await self._link(actor, oa_id)
        error: dict[str, Any] | None = None
        try:
            rows: list[dict[str, Any]] = []
            for page in range(MAX_PAGES):
                batch, total = await self._links.call(link["_id"], self._page(page * PAGE))
                rows += batch
                if not batch or len(rows) >= total:
                    break
            now = self._clock.now()
            for row in rows:
                if row.get("templateId") is None:
                    continue
                await self._keep(
                    link,
                    str(row["templateId"]),
                    {
                        "name": row.get("templateName"),
                        "status": row.get("status"),
                        "quality": row.get("templateQuality"),
                        "zalo_created_at": _created(row.get("createdTime")),
                        "listed_at": now,
                    },
                )
        except ZaloError as exc:
            error = exc.as_failure()
        cursor = self._templates.find({"link_id": link["_id"], "name": {"$ne": None}}).sort("template_id", ASCENDING)
        templates = [summary(doc) async for doc in cursor]
        templates.sort(key=lambda t: (t["status"] != "ENABLE", str(t["name"] or "")))
        return {"oa_id": link["oa_id"], "templates": templates, "zalo_error": error}

    async def get(self, actor: Principal, oa_id: str | None, template_id: str) -> dict[str, Any]:
        """One template with its parameters, fetched from Zalo now and kept."""
        return await self._fetch(await self._link(actor, oa_id), template_id)

    async def for_send(self, link: dict[str, Any], template_id: str) -> dict[str, Any]:
        """The template a message is about to be sent with: its kept detail, or Zalo's now when none is kept
        (or the status webhook said it changed since). Zalo's -109 (no such template) is 404."""
        kept = await self._templates.find_one({"link_id": link["_id"], "template_id": template_id})
        if kept is not None and kept.get("detail_at"):
            return detail(kept)
        return await self._fetch(link, template_id)

    async def forget_detail(self, link_id: str, template_id: str) -> None:
        """A status or quality change Zalo announced: the next send reads the template again."""
        await self._templates.update_one(
            {"link_id": link_id, "template_id": template_id}, {"$set": {"detail_at": None}}
        )

    async def _fetch(self, link: dict[str, Any], template_id: str) -> dict[str, Any]:
        try:
            data = await self._links.call(link["_id"], lambda token: self._links.zalo.zns_template(token, template_id))
        except ZaloError as exc:
            if exc.code == TEMPLATE_UNKNOWN:
                raise NotFound(
                    "Zalo knows no such template for this OA; pick one from the list", "template_not_found"
                ) from exc
            kept = await self._templates.find_one({"link_id": link["_id"], "template_id": template_id})
            if kept and "params" in kept:  # fetched once: its last known detail
                return {**detail(kept), "zalo_error": exc.as_failure()}
            raise ZaloRefused(
                f"{exc.reason} Try again, or pick the template again.", details={"zalo": exc.as_failure()}
            ) from exc
        if not data:
            raise NotFound("Zalo knows no such template for this OA", "template_not_found")
        doc = await self._keep(
            link,
            template_id,
            {
                "name": data.get("templateName"),
                "status": data.get("status"),
                "quality": data.get("templateQuality"),
                **({"reason": data["reason"]} if data.get("reason") else {}),  # else the status webhook's stays
                "tag": data.get("templateTag"),
                "template_type": data.get("templateType") or data.get("template_type"),
                "timeout": data.get("timeout"),
                "preview_url": data.get("previewUrl"),
                "price": data.get("price"),
                "price_sdt": data.get("price_sdt"),
                "price_uid": data.get("price_uid"),
                "params": _params(data.get("listParams")),
                "buttons": data.get("listButtons") if isinstance(data.get("listButtons"), list) else [],
                "detail_at": self._clock.now(),
            },
        )
        return {**detail(doc), "zalo_error": None}
