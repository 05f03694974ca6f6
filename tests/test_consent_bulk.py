"""ZCC call requests in bulk (the product guide's "Import"): upload, a preview with each line's problems,
edit and delete lines, pick the OA, send; each line's outcome kept; Zalo's rate limit retried; nothing
asked of Zalo twice. Against the fake Zalo."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from tests.conftest import Company, new_phone
from tests.zalo_payloads import Oa


def zalo(phone: str) -> str:
    return "84" + phone[1:]


def csv_file(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def upload(company: Company, content: bytes, name: str = "calls.csv", by=None, **fields: str):
    return await company.http.post(
        f"{company.url}/api/consents/imports",
        headers=(by or company.owner).auth,
        files={"file": (name, content)},
        data=fields,
    )


async def rows(company: Company, job_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await company.http.get(
        f"{company.url}/api/jobs/{job_id}/rows", headers=company.owner.auth, params={"limit": 100, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()["rows"]


async def test_a_list_is_checked_fixed_and_sent_line_by_line_with_each_lines_outcome(
    company: Company, oa: Oa, fake_zalo
) -> None:
    sent, named, default, bad_reason, waiting, refused_by_zalo = (new_phone() for _ in range(6))
    # An earlier request still waits for its answer: the resend rule refuses that line.
    earlier = await company.http.post(
        f"{company.url}/api/consents",
        headers=company.owner.auth,
        json={"oa_id": oa.oa_id, "phone": waiting, "reason_code": 101},
    )
    assert earlier.status_code == 201
    fake_zalo.consent_refusals[zalo(refused_by_zalo)] = -230
    content = csv_file(
        [
            "Số điện thoại,Lý do",
            f"{sent},101",
            f"{named},Thông báo giao hàng",
            "not a phone,101",
            f"+84{sent[1:]},105",
            f"{bad_reason},999",
            f"{default},",
            f"{waiting},103",
            f"{refused_by_zalo},101",
        ]
    )
    staged = await upload(company, content, reason_code="107")
    assert staged.status_code == 201, staged.text
    job = staged.json()["job"]
    assert (job["status"], job["total"], job["valid"], job["invalid"]) == ("staged", 8, 5, 3)
    problems = {row["data"]["line"]: row["problems"] for row in await rows(company, job["id"], problems="true")}
    assert problems == {"4": ["bad_phone"], "5": ["repeated_phone"], "6": ["bad_reason"]}
    preview = {row["data"]["line"]: row["data"] for row in await rows(company, job["id"])}
    assert preview["3"]["reason_code"] == 105 and preview["7"]["reason_code"] == 107  # a name; the default

    # Fix one line, drop the repeated one and the one that is no phone.
    fixed = await company.http.patch(
        f"{company.url}/api/jobs/{job['id']}/rows/4",
        headers=company.owner.auth,
        json={"data": {"line": "6", "phone": bad_reason, "reason": "Thông báo chuyến bay"}},
    )
    assert fixed.status_code == 200 and fixed.json()["row"]["problems"] == []
    assert fixed.json()["row"]["data"]["reason_code"] == 106
    for n in (2, 3):
        assert (
            await company.http.delete(f"{company.url}/api/jobs/{job['id']}/rows/{n}", headers=company.owner.auth)
        ).status_code == 204

    owner = await company.console(company.owner).connect()
    fake_zalo.consent_rate_limited = 1  # the first line meets Zalo's rate limit once, and is tried again
    confirmed = await company.http.post(
        f"{company.url}/api/jobs/{job['id']}/confirm", headers=company.owner.auth, json={"params": {"oa_id": oa.oa_id}}
    )
    assert confirmed.status_code == 200, confirmed.text

    def status() -> str | None:
        updates = [e["data"] for e in owner.of_type("job.updated") if e["data"]["id"] == job["id"]]
        return updates[-1]["status"] if updates else None

    await owner.wait_for(lambda: status() == "completed", timeout=60)
    last = [e["data"] for e in owner.of_type("job.updated") if e["data"]["id"] == job["id"]][-1]
    assert (last["total"], last["done"], last["ok"], last["failed"]) == (6, 6, 4, 2)
    assert last["notice"] is None  # the rate limit's pause is over

    outcomes = {row["data"]["phone"]: row["outcome"] for row in await rows(company, job["id"])}
    for phone in (sent, named, default, bad_reason):
        assert outcomes[phone]["status"] == "sent"
    assert outcomes[waiting]["status"] == "refused" and outcomes[waiting]["can_resend_at"]
    assert outcomes[refused_by_zalo]["status"] == "failed"
    assert outcomes[refused_by_zalo]["failure"]["code"] == -230

    asked = [
        r
        for r in fake_zalo.consent_requests
        if r["phone"] in {zalo(p) for p in (sent, named, default, bad_reason, waiting)}
    ]
    assert sorted((r["phone"], r["reason_code"]) for r in asked) == sorted(
        [(zalo(sent), 101), (zalo(named), 105), (zalo(default), 107), (zalo(bad_reason), 106), (zalo(waiting), 101)]
    ), "each line asked of Zalo once (the waiting phone: only its earlier single request)"
    listed = await company.http.get(f"{company.url}/api/consents", headers=company.owner.auth, params={"phone": named})
    assert [c["reason_code"] for c in listed.json()["consents"]] == [105]


async def test_an_excel_list_and_files_the_hub_cannot_read(company: Company, oa: Oa) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Phone", "Reason"])
    sheet.append([912345678, "Order update"])  # Excel keeps the number without its leading 0
    buffer = io.BytesIO()
    book.save(buffer)
    staged = await upload(company, buffer.getvalue(), name="calls.xlsx")
    assert staged.status_code == 201, staged.text
    [row] = await rows(company, staged.json()["job"]["id"])
    assert (row["data"]["zalo_phone"], row["data"]["reason_code"], row["problems"]) == ("84912345678", 107, [])

    no_phone = await upload(company, csv_file(["Tên,Lý do", "Lan,101"]))
    assert no_phone.status_code == 422 and no_phone.json()["error"]["code"] == "missing_column"
    assert "Số điện thoại" in no_phone.json()["error"]["message"]
    wrong_kind = await upload(company, b"%PDF-1.4", name="calls.pdf")
    assert wrong_kind.status_code == 422 and wrong_kind.json()["error"]["code"] == "unsupported_file"
    not_excel = await upload(company, b"not a zip", name="calls.xlsx")
    assert not_excel.status_code == 422 and not_excel.json()["error"]["code"] == "unreadable_file"
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nPhone\r\n0912345678\r\n--b--\r\n'
    )

    async def stream():  # sent chunked: no Content-Length, so no size known before the disk fills
        yield body

    chunked = await company.http.post(
        f"{company.url}/api/consents/imports",
        headers={**company.owner.auth, "Content-Type": "multipart/form-data; boundary=b"},
        content=stream(),
    )
    assert (chunked.status_code, chunked.json()["error"]["code"]) == (411, "length_required")
    listed = await company.http.get(
        f"{company.url}/api/jobs", headers=company.owner.auth, params={"kind": "consents.bulk"}
    )
    assert len(listed.json()["jobs"]) == 1, "a refused file leaves no job behind"


async def test_a_line_whose_answer_was_lost_after_it_reached_zalo_is_unknown_never_asked_again(
    company: Company, oa: Oa, fake_zalo
) -> None:
    lost, after = new_phone(), new_phone()
    staged = await upload(company, csv_file(["Phone,Reason", f"{lost},101", f"{after},101"]))
    job = staged.json()["job"]
    owner = await company.console(company.owner).connect()
    fake_zalo.consent_gateway_errors = 1  # Zalo takes the first request, and its gateway answers 502
    confirmed = await company.http.post(
        f"{company.url}/api/jobs/{job['id']}/confirm", headers=company.owner.auth, json={"params": {"oa_id": oa.oa_id}}
    )
    assert confirmed.status_code == 200, confirmed.text
    await owner.wait_for(
        lambda: any(
            e["data"]["id"] == job["id"] and e["data"]["status"] == "completed" for e in owner.of_type("job.updated")
        ),
        timeout=60,
    )
    outcomes = {row["data"]["phone"]: row["outcome"] for row in await rows(company, job["id"])}
    assert outcomes[lost]["status"] == "unknown" and outcomes[after]["status"] == "sent"
    asked = [r["phone"] for r in fake_zalo.consent_requests if r["phone"] in (zalo(lost), zalo(after))]
    assert sorted(asked) == sorted([zalo(lost), zalo(after)]), "the line Zalo may have was not asked again"


async def test_a_list_sent_after_its_uploader_left_the_company_fails_and_asks_nobody(
    company: Company, oa: Oa, fake_zalo
) -> None:
    agent = await company.add("user")
    phone = new_phone()
    staged = await upload(company, csv_file(["Phone,Reason", f"{phone},101"]), by=agent)
    job = staged.json()["job"]
    removed = await company.http.delete(f"{company.url}/api/members/{agent.id}", headers=company.owner.auth)
    assert removed.status_code in (200, 204), removed.text
    owner = await company.console(company.owner).connect()
    confirmed = await company.http.post(
        f"{company.url}/api/jobs/{job['id']}/confirm", headers=company.owner.auth, json={"params": {"oa_id": oa.oa_id}}
    )
    assert confirmed.status_code == 200, confirmed.text

    def last() -> dict | None:
        mine = [e["data"] for e in owner.of_type("job.updated") if e["data"]["id"] == job["id"]]
        return mine[-1] if mine else None

    await owner.wait_for(lambda: (last() or {}).get("status") == "failed", timeout=60)
    assert "removed from the company" in last()["error"]
    assert not [r for r in fake_zalo.consent_requests if r["phone"] == zalo(phone)]
