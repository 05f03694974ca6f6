"""ZNS notifications: sending, Z-time charging at its two limits, reviews, quiet hours, statistics."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl

from tests.conftest import Company
from tests.zalo_payloads import Oa


async def _send(company: Company, oa: Oa, otp: bool, template: str = "tpl-1", **extra):
    response = await company.http.post(
        f"{company.url}/api/zns/messages",
        headers=company.owner.auth,
        json={
            "oa_id": oa.oa_id,
            "phone": "0912000111",
            "template_id": template,
            "template_data": {"otp": "123456"},
            "otp": otp,
            **extra,
        },
    )
    return response


VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _ms(sent_at: str, plus_s: float) -> str:
    return str(int(datetime.fromisoformat(sent_at).timestamp() * 1000 + plus_s * 1000))


async def _daytime(company: Company, clock, hour: int = 10) -> None:
    """Move the hub's clock forward to the next `hour` o'clock in Vietnam (Zalo's quiet hours are Vietnam's,
    whatever the company's zone) and give the templates their prices. Members are added before: a token
    the hub issues in its future is not valid yet to the real clock."""
    now = datetime.now(VIETNAM)
    target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target < now:
        target += timedelta(days=1)  # forward only: Zalo's sent times (real) stay in the hub's past
    clock.set((target - now).total_seconds())
    response = await company.http.patch(
        f"{company.url}/api/company",
        headers=company.owner.auth,
        json={"settings": {"zns_prices": {"tpl-1": 300.0, "tpl-otp": 200.0}}},
    )
    assert response.status_code == 200, response.text


async def test_charged_or_free_at_the_two_z_time_limits(company: Company, oa: Oa, fake_zalo, clock) -> None:
    manager = await company.console(await company.add("manager")).connect()
    await _daytime(company, clock)
    cases = [(True, 15, True), (True, 16, False), (False, 7200, True), (False, 7201, False)]
    sent = []
    for otp, _, _ in cases:
        # The template says whether it is OTP (tpl-otp: tag OTP, Z-time 15 s), whatever the sender's flag.
        response = await _send(company, oa, not otp, template="tpl-otp" if otp else "tpl-1")
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "processing" and response.json()["msg_id"]
        assert response.json()["otp"] is otp
        sent.append(response.json())
    assert fake_zalo.zns_sent[-1]["phone"] == "84912000111"
    for message, (_, delay, _) in zip(sent, cases, strict=True):
        receipt = oa.zns_delivered(
            message["phone"], message["msg_id"], message["tracking_id"], _ms(message["sent_at"], delay)
        )
        assert (await oa.deliver(company.http, company.url, receipt)).status_code == 200
    await manager.wait_for(lambda: sum(e["data"]["status"] == "success" for e in manager.of_type("zns.updated")) == 4)
    listed = {
        m["id"]: m
        for m in (await company.http.get(f"{company.url}/api/zns/messages", headers=company.owner.auth)).json()[
            "messages"
        ]
    }
    assert [listed[m["id"]]["charged"] for m in sent] == [expected for _, _, expected in cases]
    stats = (await company.http.get(f"{company.url}/api/zns/stats", headers=company.owner.auth)).json()
    assert (stats["sent"], stats["charged"], stats["free"], stats["success"]) == (4, 2, 2, 4)
    assert stats["total_spend"] == 500.0  # one OTP (200) and one other (300) charged
    too_long = await company.http.get(
        f"{company.url}/api/zns/stats?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", headers=company.owner.auth
    )
    assert too_long.status_code == 422


async def test_reviews_attach_to_their_message_by_msg_id(company: Company, oa: Oa, clock) -> None:
    await _daytime(company, clock)
    owner = await company.console(company.owner).connect()
    first = (await _send(company, oa, False)).json()
    second = (await _send(company, oa, False)).json()
    feedback = oa.zns_feedback(second["phone"], second["msg_id"], 4, "Giao hàng nhanh", ["Nhân viên thân thiện"])
    assert (await oa.deliver(company.http, company.url, feedback)).status_code == 200
    await owner.wait_for(lambda: any(e["data"]["review"] for e in owner.of_type("zns.updated")))
    reviewed = (
        await company.http.get(f"{company.url}/api/zns/messages/{second['id']}", headers=company.owner.auth)
    ).json()
    assert reviewed["review"]["rate"] == 4 and reviewed["review"]["feedbacks"] == ["Nhân viên thân thiện"]
    untouched = (
        await company.http.get(f"{company.url}/api/zns/messages/{first['id']}", headers=company.owner.auth)
    ).json()
    assert untouched["review"] is None


async def test_quiet_hours_are_vietnams_whatever_the_companys_zone(company: Company, oa: Oa, fake_zalo, clock) -> None:
    user = await company.add("user")
    await company.http.patch(
        f"{company.url}/api/company", headers=company.owner.auth, json={"timezone": "America/New_York"}
    )
    # 10:00 in Vietnam is 22:00 (or 23:00) the evening before for a company on New York's time: Zalo
    # delivers, so the hub sends.
    await _daytime(company, clock, hour=10)
    assert (await _send(company, oa, False)).status_code == 201
    # 23:00 in Vietnam, late morning in New York: refused before Zalo is called.
    await _daytime(company, clock, hour=23)
    before = len(fake_zalo.zns_sent)
    response = await _send(company, oa, False)
    assert response.status_code == 409 and response.json()["error"]["code"] == "zns_quiet_hours"
    assert "22:00" in response.json()["error"]["message"]
    assert len(fake_zalo.zns_sent) == before
    forbidden = await company.http.post(
        f"{company.url}/api/zns/messages",
        headers=user.auth,
        json={"oa_id": oa.oa_id, "phone": "0912000111", "template_id": "t"},
    )
    assert forbidden.status_code == 403


async def test_the_zns_list_exports_as_it_shows(company: Company, oa: Oa, clock) -> None:
    agent = await company.add("user")  # before the hub's clock moves to daytime: its token from the real clock
    await _daytime(company, clock)
    for n in range(3):
        assert (await _send(company, oa, False, tracking_id=f"export-{n}")).status_code == 201
    url = f"{company.url}/api/zns/messages"
    listed = (await company.http.get(url, headers=company.owner.auth)).json()["messages"]
    response = await company.http.get(f"{url}/export", headers=company.owner.auth, params={"format": "csv"})
    assert response.status_code == 200, response.text
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:3] == ["Gửi lúc", "OA", "Số điện thoại"]
    assert [(r[4], r[5]) for r in rows] == [(m["tracking_id"], m["msg_id"] or "") for m in listed]
    assert len(rows) == 3
    sheet = (await company.http.get(f"{url}/export", headers=company.owner.auth, params={"lang": "en"})).content
    assert len(list(openpyxl.load_workbook(io.BytesIO(sheet), read_only=True).worksheets[0].iter_rows())) == 4
    # ZNS is for owners and managers: so is its file.
    assert (await company.http.get(f"{url}/export", headers=agent.auth)).status_code == 403


async def test_the_template_decides_price_and_parameters_before_zalo_is_asked(
    company: Company, oa: Oa, fake_zalo, clock
) -> None:
    await _daytime(company, clock)  # the company's own prices: tpl-1 300, tpl-otp 200
    fake_zalo.templates["tpl-priced"] = {
        "templateId": "tpl-priced", "templateName": "Khuyến mãi", "status": "ENABLE", "templateTag": "PROMOTION",
        "timeout": 7200000, "price": "500", "price_sdt": "450", "price_uid": "400",
        "listParams": [{"name": "code", "require": True, "type": "STRING", "maxLength": 8, "minLength": 2}],
    }  # fmt: skip
    fake_zalo.templates["tpl-unpriced"] = {**fake_zalo.templates["tpl-priced"], "templateId": "tpl-unpriced"}
    del fake_zalo.templates["tpl-unpriced"]["price"], fake_zalo.templates["tpl-unpriced"]["price_sdt"]
    del fake_zalo.templates["tpl-unpriced"]["price_uid"]
    await company.http.patch(
        f"{company.url}/api/company",
        headers=company.owner.auth,
        json={"settings": {"zns_prices": {"tpl-1": 300.0, "tpl-otp": 200.0, "tpl-unpriced": 250.0}}},
    )
    priced = await _send(company, oa, False, template="tpl-priced", template_data={"code": "SALE10"})
    assert priced.status_code == 201, priced.text
    assert priced.json()["unit_price"] == 450.0  # Zalo's price of a message by phone
    unpriced = await _send(company, oa, False, template="tpl-unpriced", template_data={"code": "SALE10"})
    assert unpriced.json()["unit_price"] == 250.0  # none from Zalo: the company's own

    before = len(fake_zalo.zns_sent)
    missing = await _send(company, oa, False, template="tpl-priced", template_data={})
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "invalid_template_data")
    assert missing.json()["error"]["problems"] == ["template_data.code is required"]
    too_long = await _send(company, oa, False, template="tpl-otp", template_data={"otp": "1234567"})
    assert too_long.json()["error"]["problems"] == ["template_data.otp is longer than 6 characters"]
    unknown = await _send(company, oa, False, template="tpl-nowhere")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "template_not_found")
    assert len(fake_zalo.zns_sent) == before, "nothing refused reached Zalo"
    listed = (await company.http.get(f"{company.url}/api/zns/messages", headers=company.owner.auth)).json()
    assert len(listed["messages"]) == 2, "a refused message leaves no record"


async def test_a_templates_type_and_a_quality_change_from_zalo(company: Company, oa: Oa, fake_zalo, clock) -> None:
    fake_zalo.templates["tpl-rating"] = {
        "templateId": "tpl-rating", "templateName": "Đánh giá dịch vụ", "status": "ENABLE", "templateType": 5,
        "templateQuality": "HIGH", "timeout": 7200000, "price": "300", "listParams": [],
    }  # fmt: skip
    url = f"{company.url}/api/zns/templates"
    listed = (await company.http.get(url, headers=company.owner.auth, params={"oa_id": oa.oa_id})).json()
    types = {t["template_id"]: t["type"] for t in listed["templates"]}
    assert types["tpl-rating"] is None, "the list tells no type until the template's detail is read"
    rating = (
        await company.http.get(f"{url}/tpl-rating", headers=company.owner.auth, params={"oa_id": oa.oa_id})
    ).json()
    otp = (await company.http.get(f"{url}/tpl-otp", headers=company.owner.auth, params={"oa_id": oa.oa_id})).json()
    assert (rating["type"], otp["type"]) == ("rating", "otp")

    await _daytime(company, clock)
    asked = len(fake_zalo.template_requests)
    assert (await _send(company, oa, False, template="tpl-rating")).status_code == 201
    assert len(fake_zalo.template_requests) == asked, "the kept detail serves the send"
    quality = {
        "app_id": oa.app_id, "event_name": "change_template_quality", "oa_id": oa.oa_id,
        "template_id": "tpl-rating", "quality": "LOW", "timestamp": oa.ts(),
    }  # fmt: skip
    assert (await oa.deliver(company.http, company.url, quality)).status_code == 200
    assert (await _send(company, oa, False, template="tpl-rating")).status_code == 201
    assert fake_zalo.template_requests[asked:] == ["/template/info/v2"], "read again after Zalo's quality change"
