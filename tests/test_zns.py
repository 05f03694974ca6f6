"""ZNS notifications: sending, Z-time charging at its two limits, reviews, quiet hours, statistics."""
from __future__ import annotations

from datetime import datetime, timezone

from tests.conftest import Company
from tests.zalo_payloads import Oa


async def _send(company: Company, oa: Oa, otp: bool, template: str = "tpl-1", **extra):
    response = await company.http.post(f"{company.url}/api/zns/messages", headers=company.owner.auth,
                                       json={"oa_id": oa.oa_id, "phone": "0912000111", "template_id": template,
                                             "template_data": {"otp": "123456"}, "otp": otp, **extra})
    return response


def _ms(sent_at: str, plus_s: float) -> str:
    return str(int(datetime.fromisoformat(sent_at).timestamp() * 1000 + plus_s * 1000))


async def _daytime(company: Company, hour: int = 10) -> None:
    """Put the company in a time zone where it is `hour` o'clock now (so quiet hours are controlled)."""
    offset = (hour - datetime.now(timezone.utc).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    response = await company.http.patch(f"{company.url}/api/company", headers=company.owner.auth,
                                        json={"timezone": zone, "settings": {"zns_prices": {"tpl-1": 300.0,
                                                                                            "tpl-otp": 200.0}}})
    assert response.status_code == 200, response.text


async def test_charged_or_free_at_the_two_z_time_limits(company: Company, oa: Oa, fake_zalo) -> None:
    await _daytime(company)
    manager = await company.console(await company.add("manager")).connect()
    cases = [(True, 15, True), (True, 16, False), (False, 7200, True), (False, 7201, False)]
    sent = []
    for otp, _, _ in cases:
        response = await _send(company, oa, otp, template="tpl-otp" if otp else "tpl-1")
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "processing" and response.json()["msg_id"]
        sent.append(response.json())
    assert fake_zalo.zns_sent[-1]["phone"] == "84912000111"
    for message, (_, delay, _) in zip(sent, cases):
        receipt = oa.zns_delivered(message["phone"], message["msg_id"], message["tracking_id"],
                                   _ms(message["sent_at"], delay))
        assert (await oa.deliver(company.http, company.url, receipt)).status_code == 200
    await manager.wait_for(lambda: sum(e["data"]["status"] == "success" for e in manager.of_type("zns.updated")) == 4)
    listed = {m["id"]: m for m in (await company.http.get(f"{company.url}/api/zns/messages",
                                                          headers=company.owner.auth)).json()["messages"]}
    assert [listed[m["id"]]["charged"] for m in sent] == [expected for _, _, expected in cases]
    stats = (await company.http.get(f"{company.url}/api/zns/stats", headers=company.owner.auth)).json()
    assert (stats["sent"], stats["charged"], stats["free"], stats["success"]) == (4, 2, 2, 4)
    assert stats["total_spend"] == 500.0  # one OTP (200) and one other (300) charged
    too_long = await company.http.get(f"{company.url}/api/zns/stats?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z",
                                      headers=company.owner.auth)
    assert too_long.status_code == 422


async def test_reviews_attach_to_their_message_by_msg_id(company: Company, oa: Oa) -> None:
    await _daytime(company)
    owner = await company.console(company.owner).connect()
    first = (await _send(company, oa, False)).json()
    second = (await _send(company, oa, False)).json()
    feedback = oa.zns_feedback(second["phone"], second["msg_id"], 4, "Giao hàng nhanh", ["Nhân viên thân thiện"])
    assert (await oa.deliver(company.http, company.url, feedback)).status_code == 200
    await owner.wait_for(lambda: any(e["data"]["review"] for e in owner.of_type("zns.updated")))
    reviewed = (await company.http.get(f"{company.url}/api/zns/messages/{second['id']}",
                                       headers=company.owner.auth)).json()
    assert reviewed["review"]["rate"] == 4 and reviewed["review"]["feedbacks"] == ["Nhân viên thân thiện"]
    untouched = (await company.http.get(f"{company.url}/api/zns/messages/{first['id']}",
                                        headers=company.owner.auth)).json()
    assert untouched["review"] is None


async def test_quiet_hours_refuse_before_calling_zalo(company: Company, oa: Oa, fake_zalo) -> None:
    await _daytime(company, hour=23)
    before = len(fake_zalo.zns_sent)
    response = await _send(company, oa, False)
    assert response.status_code == 409 and response.json()["error"]["code"] == "zns_quiet_hours"
    assert "22:00" in response.json()["error"]["message"]
    assert len(fake_zalo.zns_sent) == before
    user = await company.add("user")
    forbidden = await company.http.post(f"{company.url}/api/zns/messages", headers=user.auth,
                                        json={"oa_id": oa.oa_id, "phone": "0912000111", "template_id": "t"})
    assert forbidden.status_code == 403
