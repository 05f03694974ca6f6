"""ZNS and ZCC reports and the ZNS service reviews list over REST: seeded messages and requests give exact
figures, cut into days in the company's time zone (Asia/Ho_Chi_Minh, UTC+7) across its midnight; owners and
managers only; a period of at most 3 months."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.runtime import Runtime
from tests.conftest import Company

START = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)  # 2 November 00:00 in Hồ Chí Minh City
PERIOD = {"from": START.isoformat(), "to": (START + timedelta(days=3)).isoformat()}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def zns(company_id: str, sent: str, template: str, status: str, charged: bool, price: float | None, **more: Any):
    """A ZNS message as hub.zns stores it."""
    return {
        "_id": "z" + secrets.token_hex(8),
        "company_id": company_id,
        "link_id": "link-1",
        "oa_id": "oa-1",
        "phone": "8491" + secrets.token_hex(4)[:7].translate(str.maketrans("abcdef", "123456")),
        "template_id": template,
        "template_data": {},
        "tracking_id": secrets.token_hex(8),
        "msg_id": "m" + secrets.token_hex(6),
        "otp": False,
        "status": status,
        "failure": None,
        "sent_at": at(sent),
        "delivered_at": None,
        "charged": charged,
        "unit_price": price,
        "review": None,
        "sent_by": "owner",
        **more,
    }


def consent(company_id: str, created: str, reason: int, status: str, send_status: str = "success"):
    return {
        "_id": "k" + secrets.token_hex(8),
        "company_id": company_id,
        "link_id": "link-1",
        "oa_id": "oa-1",
        "phone": "84912" + secrets.token_hex(3),
        "reason_code": reason,
        "call_type": "audio",
        "requested_by": "owner",
        "status": status,
        "send_status": send_status,
        "failure": None,
        "charged": send_status == "success",
        "created_at": at(created),
    }


async def test_the_zns_report_counts_spend_per_day_and_per_template(company: Company, runtime: Runtime) -> None:
    cid = company.id
    await runtime.store.zns_messages.insert_many(
        [
            zns(cid, "2026-11-02T00:30:00+07:00", "tpl-a", "success", True, 300.0),
            zns(cid, "2026-11-02T23:59:00+07:00", "tpl-a", "success", False, 300.0),  # delivered too late: free
            zns(cid, "2026-11-03T00:00:30+07:00", "tpl-b", "failure", False, 200.0),  # the next local day
            zns(cid, "2026-11-03T09:00:00+07:00", "tpl-b", "success", True, 200.0),
            zns(cid, "2026-11-04T10:00:00+07:00", "tpl-b", "processing", False, 200.0),
            zns(cid, "2026-11-01T23:59:00+07:00", "tpl-a", "success", True, 300.0),  # before the period
        ]
    )
    response = await company.http.get(f"{company.url}/api/reports/zns", headers=company.owner.auth, params=PERIOD)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["totals"] == {
        "sent": 5, "success": 3, "failed": 1, "processing": 1, "charged": 2, "free": 1, "spend": 500.0
    }  # fmt: skip
    days = {row["day"]: (row["sent"], row["charged"], row["spend"]) for row in report["per_day"]}
    assert days == {"2026-11-02": (2, 1, 300.0), "2026-11-03": (2, 1, 200.0), "2026-11-04": (1, 0, 0)}
    by_template = {row["template_id"]: (row["sent"], row["failed"], row["spend"]) for row in report["by_template"]}
    assert by_template == {"tpl-a": (2, 0, 300.0), "tpl-b": (3, 1, 200.0)}
    assert report["by_kind"] == [{"kind": "phone", **report["totals"]}]

    only_b = await company.http.get(
        f"{company.url}/api/reports/zns", headers=company.owner.auth, params={**PERIOD, "template_id": "tpl-b"}
    )
    assert only_b.json()["totals"]["sent"] == 3


async def test_the_zcc_report_counts_requests_per_reason_and_per_answer(company: Company, runtime: Runtime) -> None:
    cid = company.id
    await runtime.store.consents.insert_many(
        [
            consent(cid, "2026-11-02T08:00:00+07:00", 101, "agreed"),
            consent(cid, "2026-11-02T09:00:00+07:00", 101, "rejected"),
            consent(cid, "2026-11-03T00:10:00+07:00", 105, "waiting"),
            consent(cid, "2026-11-03T10:00:00+07:00", 105, "failed", send_status="failure"),
        ]
    )
    manager = await company.add("manager")
    report = (await company.http.get(f"{company.url}/api/reports/zcc", headers=manager.auth, params=PERIOD)).json()
    assert report["totals"] == {"requested": 4, "sent": 3, "failed": 1, "charged": 3}
    assert {r["reason_code"]: r["requested"] for r in report["by_reason"]} == {101: 2, 105: 2}
    assert {r["status"]: r["count"] for r in report["by_answer"]} == {
        "agreed": 1, "rejected": 1, "waiting": 1, "failed": 1
    }  # fmt: skip
    assert [(d["day"], d["requested"]) for d in report["per_day"]] == [
        ("2026-11-02", 2), ("2026-11-03", 2), ("2026-11-04", 0)
    ]  # fmt: skip


async def test_reviews_are_listed_newest_first_and_found_by_template_phone_and_msg_id(
    company: Company, runtime: Runtime
) -> None:
    cid = company.id

    def review(rate: int, note: str, when: str) -> dict[str, Any]:
        return {"rate": rate, "note": note, "feedbacks": ["Nhanh"], "submitted_at": at(when)}

    first = zns(cid, "2026-11-02T08:00:00+07:00", "tpl-rate", "success", True, 300.0)
    first["review"] = review(5, "Rất tốt", "2026-11-02T09:00:00+07:00")
    second = zns(cid, "2026-11-02T08:00:00+07:00", "tpl-other", "success", True, 300.0)
    second["review"] = review(2, "Chậm", "2026-11-02T10:00:00+07:00")
    unreviewed = zns(cid, "2026-11-02T08:00:00+07:00", "tpl-rate", "success", True, 300.0)
    await runtime.store.zns_messages.insert_many([first, second, unreviewed])

    async def reviews(**params: str) -> list[dict[str, Any]]:
        response = await company.http.get(f"{company.url}/api/zns/reviews", headers=company.owner.auth, params=params)
        assert response.status_code == 200, response.text
        return response.json()["reviews"]

    assert [(r["rate"], r["note"]) for r in await reviews()] == [(2, "Chậm"), (5, "Rất tốt")]
    assert [r["id"] for r in await reviews(template_id="tpl-rate")] == [first["_id"]]
    assert [r["id"] for r in await reviews(msg_id=second["msg_id"])] == [second["_id"]]
    local = "0" + first["phone"][2:]  # the number as a person types it
    assert [r["id"] for r in await reviews(phone=local)] == [first["_id"]]


async def test_only_owners_and_managers_read_reports_and_a_period_is_at_most_three_months(company: Company) -> None:
    user = await company.add("user")
    for path in ("/api/reports/zns", "/api/reports/zcc", "/api/zns/reviews"):
        refused = await company.http.get(f"{company.url}{path}", headers=user.auth)
        assert refused.status_code == 403, path
    long = {"from": "2026-01-01T00:00:00+07:00", "to": "2026-06-01T00:00:00+07:00"}
    too_long = await company.http.get(f"{company.url}/api/reports/zns", headers=company.owner.auth, params=long)
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (422, "period_too_long")


async def test_the_zns_report_by_kind_of_send(company: Company, runtime: Runtime) -> None:
    cid = company.id
    await runtime.store.zns_messages.insert_many(
        [
            zns(cid, "2026-11-02T08:00:00+07:00", "tpl-a", "success", True, 300.0),  # no kind: by phone
            zns(cid, "2026-11-02T09:00:00+07:00", "tpl-a", "success", True, 300.0, kind="phone"),
            zns(cid, "2026-11-02T10:00:00+07:00", "tpl-j", "success", True, 250.0, kind="journey"),
        ]
    )

    async def report(**params: str) -> dict[str, Any]:
        answer = await company.http.get(
            f"{company.url}/api/reports/zns", headers=company.owner.auth, params={**PERIOD, **params}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    everything = await report()
    assert {row["kind"]: row["sent"] for row in everything["by_kind"]} == {"phone": 2, "journey": 1}
    assert (await report(kind="phone"))["totals"]["sent"] == 2
    assert (await report(kind="journey"))["totals"]["spend"] == 250.0
