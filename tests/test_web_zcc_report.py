"""The ZCC report in the ZCC tab (Chromium): seeded call-consent requests give the cards (sent, charged, free,
succeeded, failed) and the tables beside the pie charts by reason and by customer answer; a new request and the
customer's answer update it live (consent.updated) while it is open; owners and managers only."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, expect

from hub.runtime import Runtime
from tests.browser import screenshot_path
from tests.conftest import Company
from tests.web_steps import console_of
from tests.zalo_payloads import Oa


def _seed(company: Company, oa: Oa, runtime: Runtime, reason: int, status: str, sent: bool = True) -> dict[str, Any]:
    created = runtime.clock.now() - timedelta(hours=3)
    return {
        "_id": "k" + secrets.token_hex(8),
        "company_id": company.id,
        "link_id": oa.link_id,
        "oa_id": oa.oa_id,
        "phone": "84912" + str(secrets.randbelow(10**6)).zfill(6),
        "reason_code": reason,
        "call_type": "audio",
        "requested_by": company.owner.id,
        "status": status,
        "send_status": "success" if sent else "failure",
        "failure": None,
        "charged": sent,
        "created_at": created,
        "expires_at": created + timedelta(days=30) if status == "agreed" else None,
        "due_at": None,
    }


async def _figure(report: Locator, name: str, value: str) -> None:
    await expect(report.locator(f'#zcc-report-cards [data-figure="{name}"] dd')).to_have_text(value)


async def test_the_zcc_report_counts_requests_by_reason_and_answer_and_follows_new_answers_live(
    company: Company, oa: Oa, runtime: Runtime, fake_zalo, new_page, tmp_path: Path
) -> None:
    user = await company.add("user")
    await runtime.store.consents.insert_many(
        [
            _seed(company, oa, runtime, 101, "agreed"),
            _seed(company, oa, runtime, 101, "rejected"),
            _seed(company, oa, runtime, 101, "failed", sent=False),
            _seed(company, oa, runtime, 103, "no_response"),
            _seed(company, oa, runtime, 103, "waiting"),
        ]
    )
    page = await console_of(new_page, company.owner, company.url)
    agent = await console_of(new_page, user, company.url)
    await page.click("[data-tab=consents]")
    report = page.locator("#zcc-report")
    await report.locator("summary").click()
    for name, value in [("sent", "5"), ("charged", "4"), ("free", "1"), ("success", "4"), ("failed", "1")]:
        await _figure(report, name, value)
    reason_101 = report.locator('#zcc-by-reason tr[data-reason="101"]')
    await expect(reason_101.locator("td")).to_have_text(["101 · Tư vấn sản phẩm, dịch vụ", "3", "2", "1", "2"])
    await expect(report.locator('#zcc-by-reason tr[data-reason="103"] td')).to_have_text(
        ["103 · Xác nhận đơn hàng, lịch hẹn", "2", "2", "0", "2"]
    )
    answers = report.locator("#zcc-by-answer tbody tr")
    await expect(answers).to_have_count(5)
    await expect(report.locator('#zcc-by-answer tr[data-answer="waiting"] td')).to_have_text(["Đang chờ", "1"])
    await expect(report.locator("#zcc-by-answer-chart")).to_have_attribute(
        "aria-label", "Biểu đồ tròn: Đồng ý 1, Gửi lỗi 1, Không phản hồi 1, Từ chối 1, Đang chờ 1."
    )

    # A new request, then the customer's answer: the open report follows both.
    asked = await company.http.post(
        f"{company.url}/api/consents",
        headers=company.owner.auth,
        json={"oa_id": oa.oa_id, "phone": "0912000888", "reason_code": 105, "call_type": "audio"},
    )
    assert asked.status_code == 201, asked.text
    await _figure(report, "sent", "6")
    await expect(report.locator('#zcc-by-answer tr[data-answer="waiting"] td')).to_have_text(["Đang chờ", "2"])
    await expect(report.locator('#zcc-by-reason tr[data-reason="105"] td').nth(1)).to_have_text("1")
    answer = oa.consent_reply("84912000888", "ALLOW")
    assert (await oa.deliver(company.http, company.url, answer)).status_code == 200
    await expect(report.locator('#zcc-by-answer tr[data-answer="agreed"] td')).to_have_text(["Đồng ý", "2"])
    await expect(report.locator('#zcc-by-answer tr[data-answer="waiting"] td')).to_have_text(["Đang chờ", "1"])
    await _figure(report, "charged", "5")
    await page.screenshot(path=screenshot_path("zcc-report.png", tmp_path), full_page=True)

    # More than 3 months: the hub refuses, the report says why.
    await report.locator("input[name=from]").fill("2026-01-01")
    await report.locator("input[name=to]").fill("2026-06-01")
    await report.locator("#zcc-report-filters button[type=submit]").click()
    await expect(report.locator("#zcc-report-error")).to_contain_text("tối đa 3 tháng")

    await page.click("#lang")
    await expect(report.locator("summary")).to_have_text("ZCC report")
    await expect(report.locator('#zcc-report-cards [data-figure="free"] dt')).to_have_text("Free")
    await expect(report.locator("#zcc-report-error")).to_contain_text("at most 3 months")

    await agent.click("[data-tab=consents]")
    await expect(agent.locator("#zcc-report")).to_be_hidden()
