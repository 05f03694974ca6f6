"""ZNS campaigns (issue 20 item 3): a list uploaded and checked row by row, its cost estimated, sent now or at a
time, on the job runner: throttled, paused by quiet hours and Zalo's daily quota, retried on Zalo's rate limit,
cancelled before it starts, and never a row sent twice, even when the hub process dies mid-run. Against the
fake Zalo."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hub import embedded
from tests.conftest import Company, HubClock, hub_of_its_own, link_oa, make_company, runtime_of
from tests.consoles import TestConsole
from tests.fake_zalo import FakeZalo
from tests.zalo_payloads import Oa

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
ORDER_TEMPLATE = {
    "templateId": "tpl-order",
    "templateName": "Xác nhận đơn hàng",
    "status": "ENABLE",
    "templateQuality": "HIGH",
    "templateTag": "TRANSACTION",
    "timeout": 7200000,
    "price": "500",
    "price_sdt": "450",
    "listParams": [
        {"name": "order_code", "require": True, "type": "STRING", "maxLength": 8, "minLength": 2},
        {"name": "customer_name", "require": False, "type": "STRING", "maxLength": 30},
    ],
}


def set_vietnam_time(clock: HubClock, hour: int, minute: int = 0, days_ahead: int = 0) -> datetime:
    """Move the hub's clock forward to the next `hour:minute` in Vietnam (plus `days_ahead`); its time then.
    Members log in before: a token issued in the hub's future is not valid yet to the real clock."""
    now = datetime.now(VIETNAM)
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0) + timedelta(days=days_ahead)
    while target < now:
        target += timedelta(days=1)
    clock.set((target - now).total_seconds())
    return target


def csv_file(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def create(company: Company, oa: Oa, content: bytes, template: str = "tpl-order", name: str = "Đơn tháng 11"):
    return await company.http.post(
        f"{company.url}/api/zns/campaigns",
        headers=company.owner.auth,
        files={"file": ("list.csv", content)},
        data={"oa_id": oa.oa_id, "template_id": template, "name": name},
        timeout=120,
    )


async def call(company: Company, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return await company.http.request(method, f"{company.url}{path}", headers=company.owner.auth, **kwargs)


async def campaign(company: Company, campaign_id: str) -> dict[str, Any]:
    response = await call(company, "GET", f"/api/zns/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    return response.json()["campaign"]


async def all_rows(company: Company, job_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        response = await call(company, "GET", f"/api/jobs/{job_id}/rows", params={"offset": len(rows), "limit": 1000})
        page = response.json()["rows"]
        rows += page
        if len(page) < 1000:
            return rows


def job_updates(console: TestConsole, job_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in console.of_type("job.updated") if e["data"]["id"] == job_id]


async def finished(console: TestConsole, job_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> bool:
        updates = job_updates(console, job_id)
        return bool(updates) and updates[-1]["status"] in ("completed", "failed", "cancelled")

    await console.wait_for(done, timeout=timeout)
    return job_updates(console, job_id)[-1]


def received(fake: FakeZalo, job_id: str) -> list[dict[str, Any]]:
    return [s for s in fake.zns_sent if str(s.get("tracking_id", "")).startswith(f"{job_id}-")]


async def test_a_list_is_checked_fixed_costed_and_sent_with_its_figures(
    company: Company, oa: Oa, fake_zalo: FakeZalo, clock: HubClock
) -> None:
    fake_zalo.templates["tpl-order"] = ORDER_TEMPLATE
    user = await company.add("user")
    owner = await company.console(company.owner).connect()
    set_vietnam_time(clock, 10)
    content = csv_file(
        [
            "Số điện thoại,order_code,customer_name",
            "0912000001,DH001,Lan",
            "0912000002,DH002,",
            "not a phone,DH003,Minh",
            "+84912000001,DH004,Lan again",
            "0912000005,,Hoa",
            "0912000006,DH0000006789,Tú",
            "0912000007,X,Nam",
        ]
    )
    staged = await create(company, oa, content)
    assert staged.status_code == 201, staged.text
    made = staged.json()["campaign"]
    job_id = made["id"]
    assert (made["status"], made["name"], made["template_name"]) == ("pending", "Đơn tháng 11", "Xác nhận đơn hàng")
    assert (made["job"]["total"], made["job"]["valid"], made["job"]["invalid"]) == (7, 2, 5)
    assert (made["unit_price"], made["estimated_cost"]) == (450.0, 900.0)  # Zalo's price by phone × valid rows
    bad = await call(company, "GET", f"/api/jobs/{job_id}/rows", params={"problems": "true"})
    problems = {row["data"]["line"]: row["problems"] for row in bad.json()["rows"]}
    assert problems == {
        "4": ["bad_phone"],
        "5": ["repeated_phone"],
        "6": ["missing_param:order_code"],
        "7": ["param_too_long:order_code"],
        "8": ["param_too_short:order_code"],
    }

    # Fix two rows in the preview, leave out the others.
    rows = {row["data"]["line"]: row for row in await all_rows(company, job_id)}
    for line, code in (("6", "DH005"), ("7", "DH006")):
        fixed = await call(
            company, "PATCH", f"/api/jobs/{job_id}/rows/{rows[line]['n']}",
            json={"data": {**rows[line]["data"], "order_code": code}},
        )  # fmt: skip
        assert fixed.status_code == 200 and fixed.json()["row"]["problems"] == [], fixed.text
    still_bad = await call(
        company,
        "PATCH",
        f"/api/jobs/{job_id}/rows/{rows['8']['n']}",
        json={"data": {**rows["8"]["data"], "phone": "12"}},
    )
    assert still_bad.json()["row"]["problems"] == ["bad_phone", "param_too_short:order_code"]
    # An edit cannot drop the template's rules the row carries: only its phone and values are the editor's.
    bypass = await call(
        company, "PATCH", f"/api/jobs/{job_id}/rows/{rows['8']['n']}",
        json={"data": {"phone": "0912000008", "template_params": []}},
    )  # fmt: skip
    assert bypass.json()["row"]["problems"] == ["param_too_short:order_code"], bypass.text
    for line in ("4", "5", "8"):
        assert (await call(company, "DELETE", f"/api/jobs/{job_id}/rows/{rows[line]['n']}")).status_code == 204
    costed = await campaign(company, job_id)
    assert (costed["job"]["total"], costed["job"]["valid"], costed["estimated_cost"]) == (4, 4, 1800.0)

    # Owners and managers only.
    assert (await company.http.get(f"{company.url}/api/zns/campaigns", headers=user.auth)).status_code == 403

    confirmed = await call(company, "POST", f"/api/jobs/{job_id}/confirm", json={"params": {"send_mode": "now"}})
    assert confirmed.status_code == 200, confirmed.text
    ended = await finished(owner, job_id)
    assert (ended["status"], ended["done"], ended["ok"], ended["failed"]) == ("completed", 4, 4, 0)
    sent = received(fake_zalo, job_id)
    assert sorted((s["phone"], s["template_data"]["order_code"]) for s in sent) == [
        ("84912000001", "DH001"), ("84912000002", "DH002"), ("84912000005", "DH005"), ("84912000006", "DH006"),
    ]  # fmt: skip
    assert next(s for s in sent if s["phone"] == "84912000002")["template_data"] == {"order_code": "DH002"}

    # The sent list filters by campaign; a delivery receipt shows in the campaign's figures.
    listed = await call(company, "GET", "/api/zns/messages", params={"campaign_id": job_id})
    messages = listed.json()["messages"]
    assert len(messages) == 4 and {m["campaign_id"] for m in messages} == {job_id}
    first = messages[0]
    delivered_ms = str(int(datetime.fromisoformat(first["sent_at"]).timestamp() * 1000) + 5000)
    receipt = oa.zns_delivered(first["phone"], first["msg_id"], first["tracking_id"], delivered_ms)
    assert (await oa.deliver(company.http, company.url, receipt)).status_code == 200
    await owner.wait_for(lambda: any(e["data"]["status"] == "success" for e in owner.of_type("zns.updated")))
    detail = await campaign(company, job_id)
    assert detail["status"] == "completed"
    assert detail["figures"] == {
        "recorded": 4, "valid": 4, "sent": 4, "delivered": 1, "charged": 1, "failed": 0, "unknown": 0,
        "actual_cost": 450.0,
    }  # fmt: skip
    stats = (await call(company, "GET", "/api/zns/campaigns/stats")).json()
    assert (stats["total"], stats["completed"], stats["immediate"], stats["scheduled"]) == (1, 1, 1, 0)
    assert [
        c["id"] for c in (await call(company, "GET", "/api/zns/campaigns?status=completed")).json()["campaigns"]
    ] == [job_id]


async def test_files_and_choices_the_hub_refuses_leave_no_campaign(company: Company, oa: Oa, fake_zalo) -> None:
    fake_zalo.templates["tpl-order"] = ORDER_TEMPLATE
    no_param_column = await create(company, oa, csv_file(["Phone,customer_name", "0912000001,Lan"]))
    assert no_param_column.status_code == 422 and no_param_column.json()["error"]["code"] == "missing_column"
    assert "order_code" in no_param_column.json()["error"]["message"]
    unknown = await create(company, oa, csv_file(["Phone", "0912000001"]), template="tpl-nowhere")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "template_not_found")
    unnamed = await create(company, oa, csv_file(["Phone,order_code", "0912000001,DH1"]), name=" ")
    assert (unnamed.status_code, unnamed.json()["error"]["code"]) == (422, "invalid_name")
    bad_status = await call(company, "GET", "/api/zns/campaigns", params={"status": "paused"})
    assert bad_status.status_code == 422
    assert (await call(company, "GET", "/api/zns/campaigns")).json()["campaigns"] == []


async def test_a_scheduled_campaign_moved_then_cancelled_before_it_starts_sends_nothing(
    company: Company, oa: Oa, fake_zalo: FakeZalo, clock: HubClock
) -> None:
    owner = await company.console(company.owner).connect()
    now = set_vietnam_time(clock, 9)
    staged = await create(company, oa, csv_file(["Phone", "0912000101", "0912000102"]), template="tpl-1")
    job_id = staged.json()["campaign"]["id"]
    at = now + timedelta(hours=2)
    confirmed = await call(
        company, "POST", f"/api/jobs/{job_id}/confirm", json={"params": {"send_mode": "at"}, "run_at": at.isoformat()}
    )
    assert confirmed.status_code == 200, confirmed.text
    scheduled = await campaign(company, job_id)
    assert scheduled["status"] == "scheduled" and not scheduled["immediate"]
    assert datetime.fromisoformat(scheduled["scheduled_at"]) == at
    later = at + timedelta(hours=1)
    moved = await call(company, "POST", f"/api/jobs/{job_id}/schedule", json={"run_at": later.isoformat()})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat((await campaign(company, job_id))["scheduled_at"]) == later
    stats = (await call(company, "GET", "/api/zns/campaigns/stats")).json()
    assert (stats["total"], stats["scheduled"], stats["immediate"]) == (1, 1, 0)

    cancelled = await call(company, "POST", f"/api/jobs/{job_id}/cancel")
    assert cancelled.json()["job"]["status"] == "cancelled"
    # Another campaign for the same time, not cancelled: it goes when the time comes.
    other = (await create(company, oa, csv_file(["Phone", "0912000103"]), template="tpl-1")).json()["campaign"]
    await call(company, "POST", f"/api/jobs/{other['id']}/confirm", json={"run_at": later.isoformat()})
    clock.advance(4 * 3600)  # past the time both were scheduled for
    assert (await finished(owner, other["id"]))["status"] == "completed"
    assert len(received(fake_zalo, other["id"])) == 1
    late = await call(company, "POST", f"/api/jobs/{job_id}/schedule", json={"run_at": None})
    assert late.status_code == 409, "a cancelled campaign cannot be sent now"
    detail = await campaign(company, job_id)
    assert detail["status"] == "cancelled" and detail["figures"]["sent"] == 0
    assert received(fake_zalo, job_id) == []


async def test_a_campaign_scheduled_into_quiet_hours_waits_and_sends_after_six(
    company: Company, oa: Oa, fake_zalo: FakeZalo, clock: HubClock
) -> None:
    owner = await company.console(company.owner).connect()
    evening = set_vietnam_time(clock, 21)
    staged = await create(company, oa, csv_file(["Phone", "0912000201", "0912000202", "0912000203"]), template="tpl-1")
    job_id = staged.json()["campaign"]["id"]
    at = evening + timedelta(hours=1, minutes=30)  # 22:30: Zalo's quiet hours
    confirmed = await call(
        company, "POST", f"/api/jobs/{job_id}/confirm", json={"params": {"send_mode": "at"}, "run_at": at.isoformat()}
    )
    assert confirmed.status_code == 200
    clock.advance(2 * 3600)  # 23:00: due, but quiet

    def waiting() -> bool:
        updates = job_updates(owner, job_id)
        return bool(updates) and updates[-1]["status"] == "queued" and bool(updates[-1]["notice"])

    await owner.wait_for(waiting, timeout=20)
    paused = job_updates(owner, job_id)[-1]
    morning = (evening + timedelta(days=1)).replace(hour=6)
    assert datetime.fromisoformat(paused["not_before"]) == morning and "06:00" in paused["notice"]
    assert received(fake_zalo, job_id) == []
    assert (await campaign(company, job_id))["status"] == "processing"  # started, paused until the morning

    clock.set(clock.offset_s + (morning - evening).total_seconds() - 2 * 3600 + 60)  # 06:01
    ended = await finished(owner, job_id)
    assert (ended["status"], ended["ok"], ended["notice"]) == ("completed", 3, None)
    sent = received(fake_zalo, job_id)
    assert sorted(s["phone"] for s in sent) == ["84912000201", "84912000202", "84912000203"]
    for message in (await call(company, "GET", "/api/zns/messages", params={"campaign_id": job_id})).json()["messages"]:
        assert datetime.fromisoformat(message["sent_at"]).astimezone(VIETNAM).hour >= 6


async def test_sends_keep_the_rate_retry_zalos_rate_limit_and_wait_a_day_for_the_quota(
    company: Company, oa: Oa, fake_zalo: FakeZalo, clock: HubClock
) -> None:
    """The shared hub sends at most HUB_ZNS_CAMPAIGN_PER_S (10) a second."""
    owner = await company.console(company.owner).connect()
    start = set_vietnam_time(clock, 8)
    phones = [f"09120003{n:02d}" for n in range(12)]
    staged = await create(company, oa, csv_file(["Phone", *phones]), template="tpl-1")
    job_id = staged.json()["campaign"]["id"]
    fake_zalo.zns_answers[:] = [-32]  # the first send meets Zalo's rate limit: retried after a pause
    confirmed = await call(company, "POST", f"/api/jobs/{job_id}/confirm", json={"params": {"send_mode": "now"}})
    assert confirmed.status_code == 200
    await owner.wait_for(lambda: len(received(fake_zalo, job_id)) >= 5, timeout=30)
    fake_zalo.zns_answers[:] = [-144]  # the OA's daily quota spent: the campaign waits for tomorrow

    def waiting() -> bool:
        updates = job_updates(owner, job_id)
        return bool(updates) and updates[-1]["status"] == "queued" and "tomorrow" in (updates[-1]["notice"] or "")

    await owner.wait_for(waiting, timeout=30)
    paused = job_updates(owner, job_id)[-1]
    assert datetime.fromisoformat(paused["not_before"]) == (start + timedelta(days=1)).replace(hour=6)
    assert paused["done"] == len(received(fake_zalo, job_id)) < 12
    assert any("retrying" in (u["notice"] or "") for u in job_updates(owner, job_id)), "the rate limit's pause shown"

    clock.advance(22 * 3600 + 60)  # the next day, 06:01
    ended = await finished(owner, job_id)
    assert (ended["status"], ended["done"], ended["ok"], ended["failed"]) == ("completed", 12, 12, 0)
    sent = received(fake_zalo, job_id)
    assert sorted(s["phone"] for s in sent) == sorted("84" + p[1:] for p in phones)
    refused = [r for r in fake_zalo.zns_refused if r["tracking_id"].startswith(f"{job_id}-")]
    assert [r["error"] for r in refused] == [-32, -144]
    # Each refused row went again as its next attempt, with its own tracking_id.
    assert {f"{r['tracking_id']}-1" for r in refused} <= {s["tracking_id"] for s in sent}
    # Never two sends closer than 1/rate (a lower bound only), the refused ones included.
    times = sorted(s["received_at"] for s in [*sent, *refused])
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.1


async def test_an_oa_whose_token_zalo_refuses_stops_the_campaign_asking_to_reconnect(
    company: Company, oa: Oa, fake_zalo: FakeZalo, clock: HubClock
) -> None:
    owner = await company.console(company.owner).connect()
    set_vietnam_time(clock, 10)
    staged = await create(company, oa, csv_file(["Phone", "0912000401", "0912000402"]), template="tpl-1")
    job_id = staged.json()["campaign"]["id"]
    fake_zalo.expire_access_tokens(oa.app_id)
    for token in [t for t, app in fake_zalo.refresh_tokens.items() if app == oa.app_id]:
        del fake_zalo.refresh_tokens[token]  # the refresh token lapsed too
    await call(company, "POST", f"/api/jobs/{job_id}/confirm", json={"params": {"send_mode": "now"}})
    ended = await finished(owner, job_id)
    assert ended["status"] == "failed" and "reconnect the OA" in ended["error"], ended
    assert received(fake_zalo, job_id) == []
    assert (await campaign(company, job_id))["status"] == "failed"


def _rss_kb(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


@pytest.fixture
def own_mongo_uri(tmp_path: Path) -> Iterator[str]:
    """An embedded server of this test's own: in the whole suite the session's server, holding every earlier
    test's data, was seen to stop answering for minutes some 30 s into these 10,000 rows (all its clients timed
    out at once), which this test is not about."""
    server = embedded.start(tmp_path / "mongo", timeout_s=60)
    yield server.uri
    server.stop()


@pytest.mark.timeout(1500)
async def test_ten_thousand_rows_with_the_hub_killed_mid_run_each_sent_once(
    workdir: Path, own_mongo_uri: str, fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    mongo_uri = own_mongo_uri
    clock = HubClock(workdir / "campaign-kill-clock")
    clock.set(0)
    settings = {
        "zalo_openapi_url": fake_zalo.url,
        "zalo_oauth_url": fake_zalo.url,
        "zalo_business_url": fake_zalo.url,
        "job_lease_s": "2",
        "zns_campaign_per_s": "1000",
        "clock_offset_file": str(clock.path),
    }
    with hub_of_its_own(workdir, mongo_uri, "zns_campaign_kill", **settings) as hub:
        async with runtime_of(mongo_uri, "zns_campaign_kill") as rt:
            company = await make_company(rt, hub.url, http)
        oa = await link_oa(company, fake_zalo)
        set_vietnam_time(clock, 7)  # after logging in
        rows = 10_000
        staged = await create(company, oa, csv_file(["Phone", *(f"0913{n:06d}" for n in range(rows))]), "tpl-1")
        assert staged.status_code == 201, staged.text
        job_id = staged.json()["campaign"]["id"]
        assert staged.json()["campaign"]["job"]["valid"] == rows
        confirmed = await call(company, "POST", f"/api/jobs/{job_id}/confirm", json={"params": {"send_mode": "now"}})
        assert confirmed.status_code == 200
        assert hub.process is not None
        peak = [0]
        base = len(fake_zalo.zns_sent)  # this test's hub is the only one sending meanwhile

        def sample() -> bool:
            assert hub.process is not None
            peak[0] = max(peak[0], _rss_kb(hub.process.pid)[1])
            return len(fake_zalo.zns_sent) - base >= 3000

        owner = await company.console(company.owner).connect()
        await owner.wait_for(lambda: sample(), timeout=300)
        before_kill = received(fake_zalo, job_id)
        hub.process.kill()  # mid-run: no lease given back, maybe a send in flight
        hub.process.wait()
        await owner.disconnect()

        hub.start()  # the same data: the lease lapses and the new process resumes from the first row not done
        owner = await company.console(company.owner).connect()
        ended = await finished(owner, job_id, timeout=900)
        after_rss, after_peak = _rss_kb(hub.process.pid)

        sent = received(fake_zalo, job_id)
        counts = Counter(s["tracking_id"] for s in sent)
        assert max(counts.values()) == 1, "no row sent twice"
        outcomes = {row["n"]: row["outcome"] for row in await all_rows(company, job_id)}
        unknown = {n for n, o in outcomes.items() if o["status"] == "unknown"}
        assert len(outcomes) == rows and len(unknown) <= 1  # at most the one send in flight when it died
        assert {n for n, o in outcomes.items() if o["status"] == "sent"} == set(range(rows)) - unknown
        assert {f"{job_id}-{n}" for n in set(range(rows)) - unknown} <= set(counts)
        assert (ended["status"], ended["done"], ended["ok"], ended["failed"]) == (
            "completed", rows, rows - len(unknown), len(unknown),
        )  # fmt: skip
        figures = (await campaign(company, job_id))["figures"]
        assert (figures["recorded"], figures["sent"], figures["unknown"]) == (rows, rows - len(unknown), len(unknown))

        # The send rate before the kill, from the fake's receive times; the hub's memory.
        first, last = before_kill[0]["received_at"], before_kill[-1]["received_at"]
        rate = (len(before_kill) - 1) / (last - first)
        report = (
            f"campaign of {rows} rows: {rate:.0f} sends/s before the kill ({len(before_kill)} sends); hub peak RSS "
            f"{peak[0] // 1024} MB before the kill, {after_peak // 1024} MB (now {after_rss // 1024} MB) after "
            f"resuming; cpu count {os.cpu_count()}; at {time.strftime('%H:%M:%S')}"
        )
        print(report)
        (workdir / "campaign-figures.txt").write_text(report)
