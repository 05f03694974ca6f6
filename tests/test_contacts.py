"""Contacts over REST against a real hub: general contacts (one customer per phone number), the internal
directory, the export, and imports on the shared job runner (preview, confirm, twice, 50,000 rows, a
hub killed half-way)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from hub.runtime import Runtime
from tests.conftest import Company, Person, hub_of_its_own, make_company, runtime_of
from tests.consoles import TestConsole
from tests.servers import HubProcess
from tests.test_nothing_lost import Failpoints

# -- general contacts ---------------------------------------------------------------------------------


async def add_contact(company: Company, by: Person, **fields: Any) -> dict[str, Any]:
    response = await company.http.post(f"{company.url}/api/contacts", headers=by.auth, json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def search(company: Company, by: Person, q: str) -> list[dict[str, Any]]:
    response = await company.http.get(f"{company.url}/api/contacts", headers=by.auth, params={"q": q})
    assert response.status_code == 200, response.text
    return response.json()["contacts"]


async def test_a_user_adds_a_contact_and_every_member_sees_it_arrive_live(company: Company) -> None:
    user = await company.add("user")
    manager = await company.add("manager")
    watching = await company.console(manager).connect()
    contact = await add_contact(
        company, user, name="Nguyễn Thị Lan", phones=["0912 345 001"], email="lan@example.vn", note="khách quen"
    )
    assert contact["phones"] == ["0912 345 001"]
    assert contact["phones_e164"] == ["+84912345001"]
    assert contact["created_by"] == user.id
    await watching.wait_for(lambda: any(e["data"]["id"] == contact["id"] for e in watching.of_type("contact.created")))
    got = await company.http.get(f"{company.url}/api/contacts/{contact['id']}", headers=manager.auth)
    assert got.status_code == 200 and got.json()["name"] == "Nguyễn Thị Lan"


async def test_every_form_of_a_number_finds_the_same_contact(company: Company) -> None:
    contact = await add_contact(company, company.owner, name="Trần Văn Bình", phones=["0987654002"])
    await add_contact(company, company.owner, name="Lê Thị Cúc", phones=["+84987000003"])
    for form in ("0987654002", "84987654002", "+84987654002", "+84 987 654 002", "987654002", "654002"):
        assert [c["id"] for c in await search(company, company.owner, form)] == [contact["id"]], form
    assert [c["id"] for c in await search(company, company.owner, "văn bình")] == [contact["id"]]
    assert [c["name"] for c in await search(company, company.owner, "TRẦN")] == ["Trần Văn Bình"]


async def test_two_contacts_cannot_share_a_number(company: Company) -> None:
    first = await add_contact(company, company.owner, name="Phạm Minh", phones=["0903111004"])
    response = await company.http.post(
        f"{company.url}/api/contacts", headers=company.owner.auth, json={"name": "Ai đó", "phones": ["84903111004"]}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "phone_taken" and error["contact_id"] == first["id"]
    assert "Phạm Minh" in error["message"]
    other = await add_contact(company, company.owner, name="Hoàng Yến", phones=["0903111005"])
    moved = await company.http.patch(
        f"{company.url}/api/contacts/{other['id']}", headers=company.owner.auth, json={"phones": ["+84903111004"]}
    )
    assert moved.status_code == 409 and moved.json()["error"]["contact_name"] == "Phạm Minh"
    assert [c["name"] for c in await search(company, company.owner, "0903111004")] == ["Phạm Minh"]


async def test_a_number_that_is_no_phone_number_is_refused_naming_it(company: Company) -> None:
    response = await company.http.post(
        f"{company.url}/api/contacts",
        headers=company.owner.auth,
        json={"name": "Vũ Hà", "phones": ["0912345006", "12ab"]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_phone" and "12ab" in response.json()["error"]["message"]
    assert await search(company, company.owner, "Vũ Hà") == []


async def test_a_member_edits_a_contact_live_and_only_supervisors_delete(company: Company) -> None:
    user = await company.add("user")
    manager = await company.add("manager")
    contact = await add_contact(company, user, name="Đỗ Quang", phones=["0977000007"])
    watching = await company.console(user).connect()
    edited = await company.http.patch(
        f"{company.url}/api/contacts/{contact['id']}",
        headers=user.auth,
        json={"name": "Đỗ Quang Huy", "phones": ["0977000007", "0977000008"], "address": "12 Lý Thường Kiệt"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["phones_e164"] == ["+84977000007", "+84977000008"]
    assert edited.json()["updated_by"] == user.id
    await watching.wait_for(
        lambda: any(e["data"]["name"] == "Đỗ Quang Huy" for e in watching.of_type("contact.updated"))
    )

    refused = await company.http.delete(f"{company.url}/api/contacts/{contact['id']}", headers=user.auth)
    assert refused.status_code == 403 and "owners and managers" in refused.json()["error"]["message"]
    assert (await company.http.get(f"{company.url}/api/contacts/{contact['id']}", headers=user.auth)).status_code == 200

    deleted = await company.http.delete(f"{company.url}/api/contacts/{contact['id']}", headers=manager.auth)
    assert deleted.status_code == 204
    await watching.wait_for(lambda: any(e["data"]["id"] == contact["id"] for e in watching.of_type("contact.removed")))
    gone = await company.http.get(f"{company.url}/api/contacts/{contact['id']}", headers=user.auth)
    assert gone.status_code == 404
    # the number is free again
    await add_contact(company, user, name="Người mới", phones=["0977000008"])


async def test_contacts_page_newest_first(company: Company) -> None:
    made = [await add_contact(company, company.owner, name=f"Khách {i}", phones=[f"09110000{i:02d}"]) for i in range(5)]
    first = await company.http.get(f"{company.url}/api/contacts", headers=company.owner.auth, params={"limit": 3})
    page = first.json()
    assert [c["id"] for c in page["contacts"]] == [c["id"] for c in reversed(made)][:3]
    rest = await company.http.get(
        f"{company.url}/api/contacts", headers=company.owner.auth, params={"limit": 3, "before": page["next_before"]}
    )
    assert [c["id"] for c in rest.json()["contacts"]] == [made[1]["id"], made[0]["id"]]
    assert rest.json()["next_before"] is None


async def test_the_internal_directory_names_members_with_extension_and_department(company: Company) -> None:
    department = await company.http.post(
        f"{company.url}/api/departments", headers=company.owner.auth, json={"name": "CSKH"}
    )
    agent = await company.add("user", department_id=department.json()["id"], name="Agent Mai")
    given = await company.http.put(
        f"{company.url}/api/members/{agent.id}/extension", headers=company.owner.auth, json={"extension": "101"}
    )
    assert given.status_code == 200, given.text
    response = await company.http.get(f"{company.url}/api/contacts/internal", headers=agent.auth)
    assert response.status_code == 200
    mai = next(c for c in response.json()["contacts"] if c["id"] == agent.id)
    assert mai == {
        "id": agent.id,
        "name": "Agent Mai",
        "extension": "101",
        "department_id": department.json()["id"],
        "department": "CSKH",
    }
    assert all(set(c) == set(mai) for c in response.json()["contacts"])  # no phone, no role


async def test_the_export_holds_the_search_read_back_with_openpyxl(company: Company) -> None:
    await add_contact(company, company.owner, name="Bùi Thu", phones=["0966000010"], address="Hà Nội", note="VIP")
    await add_contact(company, company.owner, name="Ngô Tâm", phones=["0966000011", "+84966000012"])
    response = await company.http.get(
        f"{company.url}/api/contacts/export.xlsx", headers=company.owner.auth, params={"lang": "en"}
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Name", "Phone", "Email", "Address", "Note", "Created at", "Created by"]
    assert [r[:5] for r in rows[1:]] == [
        ["Ngô Tâm", "0966000011, +84966000012", None, None, None],
        ["Bùi Thu", "0966000010", None, "Hà Nội", "VIP"],
    ]
    assert rows[1][6] == "Owner"
    only = await company.http.get(
        f"{company.url}/api/contacts/export.xlsx", headers=company.owner.auth, params={"q": "0966000010"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(only.content), read_only=True).worksheets[0]
    vi = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert vi[0][:2] == ["Tên", "Số điện thoại"] and [r[0] for r in vi[1:]] == ["Bùi Thu"]


# -- imports ------------------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_file(path: Path, header: list[str], rows: Any) -> Path:
    """A workbook written as a stream (openpyxl write-only): any number of rows in little memory."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh bạ")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


async def upload(company: Company, by: Person, name: str, content: bytes, timeout: float = 20) -> httpx.Response:
    """The file staged: answered once every row is stored with its problems (50,000 rows take a while)."""
    mime = "text/csv" if name.endswith(".csv") else XLSX
    return await company.http.post(
        f"{company.url}/api/contacts/imports",
        headers=by.auth,
        files={"file": (name, content, mime)},
        timeout=timeout,
    )


async def rows_of(company: Company, by: Person, job_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await company.http.get(
        f"{company.url}/api/contacts/imports/{job_id}/rows", headers=by.auth, params=params
    )
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def job_updates(console: TestConsole, job_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in console.of_type("job.updated") if e["data"]["id"] == job_id]


async def import_finished(console: TestConsole, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """The job as its last job.updated told the console: completed (or failed, which the caller sees)."""
    await console.wait_for(
        lambda: any(u["status"] in ("completed", "failed") for u in job_updates(console, job_id)), timeout
    )
    return next(u for u in job_updates(console, job_id) if u["status"] in ("completed", "failed"))


async def import_file(company: Company, by: Person, console: TestConsole, name: str, content: bytes) -> dict[str, Any]:
    staged = await upload(company, by, name, content)
    assert staged.status_code == 201, staged.text
    job_id = staged.json()["id"]
    confirmed = await company.http.post(f"{company.url}/api/contacts/imports/{job_id}/confirm", headers=by.auth)
    assert confirmed.status_code == 200, confirmed.text
    return await import_finished(console, job_id)


async def test_an_import_previews_each_rows_problem_and_saves_only_once_confirmed(
    company: Company, tmp_path: Path
) -> None:
    user = await company.add("user")
    existing = await add_contact(company, company.owner, name="Khách cũ", phones=["0935000001"])
    console = await company.console(user).connect()
    path = xlsx_file(
        tmp_path / "danh-ba.xlsx",
        ["Họ tên", "SĐT", "Email", "Địa chỉ", "Ghi chú", "Cột lạ"],
        [
            ["Lý Thị Hoa", "0935000002", "hoa@example.vn", "Đà Nẵng", "", "x"],
            ["", "0935000003", "", "", "", ""],
            ["Số sai", "12ab", "", "", "", ""],
            ["Trùng số", "84935000002", "", "", "", ""],
            ["Khách cũ đổi tên", 935000001, "", "Huế", "", ""],  # a number typed as a number in Excel
            [None, None, None, None, None, None],  # empty: skipped
            ["Hai số", "0935000004; +84935000005", "not-an-email", "", "", ""],
        ],
    )
    staged = await upload(company, user, "danh-ba.xlsx", path.read_bytes())
    assert staged.status_code == 201, staged.text
    job = staged.json()
    assert (job["status"], job["total"], job["valid"], job["invalid"]) == ("staged", 6, 2, 4)
    assert job["params"]["filename"] == "danh-ba.xlsx"

    problems = await rows_of(company, user, job["id"], problems="true")
    assert [(r["data"]["line"], r["problems"]) for r in problems] == [
        (3, ["name_missing"]),
        (4, ["phone_invalid:12ab"]),
        (5, ["phone_repeated:2"]),
        (8, ["email_invalid"]),
    ]
    every = await rows_of(company, user, job["id"])
    assert [r["existing"] for r in every if r["data"]["line"] == 6] == [{"id": existing["id"], "name": "Khách cũ"}]
    assert await search(company, user, "Lý Thị Hoa") == []  # nothing saved before the confirm

    confirmed = await company.http.post(f"{company.url}/api/contacts/imports/{job['id']}/confirm", headers=user.auth)
    assert confirmed.status_code == 200 and confirmed.json()["status"] in ("queued", "running", "completed")
    done = await import_finished(console, job["id"])
    assert (done["status"], done["done"], done["ok"], done["failed"]) == ("completed", 2, 2, 0)
    await console.wait_for(lambda: any(e["data"]["job_id"] == job["id"] for e in console.of_type("contacts.imported")))
    imported = next(e["data"] for e in console.of_type("contacts.imported") if e["data"]["job_id"] == job["id"])
    assert (imported["created"], imported["updated"]) == (1, 1)

    hoa = await search(company, user, "0935000002")
    assert [(c["name"], c["email"], c["address"], c["created_by"]) for c in hoa] == [
        ("Lý Thị Hoa", "hoa@example.vn", "Đà Nẵng", user.id)
    ]
    updated = await company.http.get(f"{company.url}/api/contacts/{existing['id']}", headers=user.auth)
    assert (updated.json()["name"], updated.json()["address"]) == ("Khách cũ đổi tên", "Huế")
    for left_out in ("0935000003", "0935000004"):
        assert await search(company, user, left_out) == []


async def test_a_row_fixed_in_the_preview_is_imported_and_a_malformed_edit_is_a_problem(company: Company) -> None:
    console = await company.console(company.owner).connect()
    content = csv_bytes(["Tên", "SĐT"], [["Đúng", "0955000001"], ["Sai số", "0955"]])
    job = (await upload(company, company.owner, "sua.csv", content)).json()
    assert (job["valid"], job["invalid"]) == (1, 1)
    bad = (await rows_of(company, company.owner, job["id"], problems="true"))[0]
    fixed = {**bad["data"], "phones": ["0955000002"]}
    edited = await company.http.patch(
        f"{company.url}/api/jobs/{job['id']}/rows/{bad['n']}", headers=company.owner.auth, json={"data": fixed}
    )
    assert edited.status_code == 200 and edited.json()["row"]["problems"] == []
    broken = await company.http.patch(
        f"{company.url}/api/jobs/{job['id']}/rows/0", headers=company.owner.auth, json={"data": {"phones": "x"}}
    )
    assert broken.json()["row"]["problems"] == ["row_malformed"]
    await company.http.patch(
        f"{company.url}/api/jobs/{job['id']}/rows/0",
        headers=company.owner.auth,
        json={"data": {"line": 2, "name": "Đúng", "phones": ["0955000001"]}},
    )
    await company.http.post(f"{company.url}/api/contacts/imports/{job['id']}/confirm", headers=company.owner.auth)
    done = await import_finished(console, job["id"])
    assert (done["status"], done["ok"]) == ("completed", 2)
    assert [c["name"] for c in await search(company, company.owner, "0955000002")] == ["Sai số"]
    assert [c["name"] for c in await search(company, company.owner, "0955000001")] == ["Đúng"]


async def test_importing_the_same_file_twice_changes_nothing(company: Company) -> None:
    console = await company.console(company.owner).connect()
    content = csv_bytes(
        ["Name", "Phone", "Email", "Address", "Note"],
        [[f"Customer {i}", f"0944{i:06d}", f"c{i}@example.vn", "HCM", ""] for i in range(30)],
    )
    first = await import_file(company, company.owner, console, "contacts.csv", content)
    assert (first["status"], first["ok"]) == ("completed", 30)
    before = (
        await company.http.get(f"{company.url}/api/contacts", headers=company.owner.auth, params={"limit": 200})
    ).json()

    second = await import_file(company, company.owner, console, "contacts.csv", content)
    assert (second["status"], second["ok"], second["failed"]) == ("completed", 30, 0)
    after = (
        await company.http.get(f"{company.url}/api/contacts", headers=company.owner.auth, params={"limit": 200})
    ).json()
    assert after == before  # no duplicate, not even a changed time
    imported = [e["data"] for e in console.of_type("contacts.imported")]
    assert [(i["created"], i["updated"]) for i in imported] == [(30, 0), (0, 0)]


async def test_a_file_that_is_not_a_contact_list_is_refused_before_anything_is_staged(company: Company) -> None:
    wrong = await upload(company, company.owner, "x.csv", csv_bytes(["Mã", "Số tiền"], [["1", "2"]]))
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "unknown_columns"
    assert "Số điện thoại" in wrong.json()["error"]["message"]
    missing = await company.http.post(
        f"{company.url}/api/contacts/imports", headers=company.owner.auth, files={"other": ("a.csv", b"x")}
    )
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "missing_file"
    broken = await upload(company, company.owner, "x.xlsx", b"PK\x03\x04 not really a zip")
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_file"
    jobs = await company.http.get(f"{company.url}/api/jobs", headers=company.owner.auth)
    assert jobs.status_code == 200 and jobs.json()["jobs"] == []


def rss_kib(process: HubProcess) -> int:
    assert process.process is not None
    status = Path(f"/proc/{process.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


@pytest.mark.timeout(1500)  # about 4 minutes on an idle 2-core machine; CI shares its cores
async def test_fifty_thousand_rows_import_with_live_progress_and_flat_memory(
    company: Company, hub: HubProcess, tmp_path: Path
) -> None:
    rows = 50_000
    path = xlsx_file(
        tmp_path / "big.xlsx",
        ["Tên", "Số điện thoại", "Email", "Địa chỉ", "Ghi chú"],
        (
            [f"Khách {i}", f"0{(950000000 + i)}", f"k{i}@example.vn", "Số 1 Tràng Tiền, Hà Nội", f"dòng {i}"]
            for i in range(rows)
        ),
    )
    console = await company.console(company.owner).connect()
    rss_before = rss_kib(hub)
    staged = await upload(company, company.owner, "big.xlsx", path.read_bytes(), timeout=300)
    assert staged.status_code == 201, staged.text
    job = staged.json()
    assert (job["total"], job["valid"], job["invalid"]) == (rows, rows, 0)
    confirmed = await company.http.post(
        f"{company.url}/api/contacts/imports/{job['id']}/confirm", headers=company.owner.auth
    )
    assert confirmed.status_code == 200
    done = await import_finished(console, job["id"], timeout=1200)
    assert (done["status"], done["done"], done["ok"]) == ("completed", rows, rows)
    growth_mib = (rss_kib(hub) - rss_before) / 1024
    assert growth_mib < 150, f"the hub grew by {growth_mib:.0f} MiB importing {rows} rows"

    progress = [u["done"] for u in job_updates(console, job["id"]) if u["status"] == "running"]
    assert len([d for d in progress if 0 < d < rows]) >= 2, progress  # the bar moved while it ran
    assert progress == sorted(progress)
    last = await search(company, company.owner, f"0{950000000 + rows - 1}")
    assert [c["name"] for c in last] == [f"Khách {rows - 1}"]


async def test_an_import_whose_hub_is_killed_half_way_finishes_with_every_row_once(
    workdir: Path, mongo_uri: str, tmp_path: Path
) -> None:
    rows = 6_000
    content = csv_bytes(["Tên", "SĐT"], [[f"Người {i}", f"0966{i:06d}"] for i in range(rows)])
    with hub_of_its_own(workdir, mongo_uri, "hub_contacts_kill", job_lease_s="2") as process:
        async with runtime_of(mongo_uri, "hub_contacts_kill") as rt, httpx.AsyncClient(timeout=30) as http:
            company = await make_company(rt, process.url, http)
            console = await company.console(company.owner).connect()
            staged = await upload(company, company.owner, "people.csv", content, timeout=120)
            job_id = staged.json()["id"]
            await http.post(f"{company.url}/api/contacts/imports/{job_id}/confirm", headers=company.owner.auth)
            await console.wait_for(lambda: any(0 < u["done"] < rows for u in job_updates(console, job_id)), 60)
            assert process.process is not None
            process.process.kill()  # no goodbye: the lease is left to lapse
            process.process.wait()
            await console.wait_disconnected()

            process.start()
            again = await company.console(company.owner).connect()
            job = (await http.get(f"{company.url}/api/contacts/imports/{job_id}", headers=company.owner.auth)).json()
            if job["status"] != "completed":
                job = await import_finished(again, job_id, timeout=120)
            assert (job["status"], job["done"], job["ok"], job["failed"]) == ("completed", rows, rows, 0)
            await check_every_row_once(rt, company.id, rows)


async def check_every_row_once(rt: Runtime, company_id: str, rows: int) -> None:
    names = [doc["name"] async for doc in rt.store.contacts.find({"company_id": company_id}, {"name": 1})]
    assert len(names) == rows
    assert sorted(names) == sorted(f"Người {i}" for i in range(rows))


# -- limits and faults, on a hub of their own ------------------------------------------------------------


async def test_a_file_past_the_limits_is_refused_413_and_a_cut_request_is_finished_by_its_retry_once(
    workdir: Path, mongo_uri: str
) -> None:
    failpoints = Failpoints(workdir / "contacts-failpoints.json")
    settings = {"contacts_import_max_rows": "20", "contacts_import_max_bytes": "4000", "hole_timeout_s": "2"}
    with hub_of_its_own(
        workdir, mongo_uri, "hub_contacts_limits", failpoints_file=str(failpoints.path), **settings
    ) as process:
        async with runtime_of(mongo_uri, "hub_contacts_limits") as rt, httpx.AsyncClient(timeout=30) as http:
            company = await make_company(rt, process.url, http)
            console = await company.console(company.owner).connect()

            many = csv_bytes(["Name", "Phone"], [[f"P {i}", f"0912{i:06d}"] for i in range(21)])
            refused = await upload(company, company.owner, "many.csv", many)
            assert refused.status_code == 413 and refused.json()["error"]["code"] == "too_many_rows"
            big = csv_bytes(["Name", "Phone", "Note"], [[f"P {i}", f"0912{i:06d}", "x" * 400] for i in range(12)])
            refused = await upload(company, company.owner, "big.csv", big)
            assert refused.status_code == 413 and refused.json()["error"]["code"] == "too_large"
            assert (await http.get(f"{company.url}/api/jobs", headers=company.owner.auth)).json()["jobs"] == []
            fits = csv_bytes(["Name", "Phone"], [[f"P {i}", f"0912{i:06d}"] for i in range(20)])
            assert (await upload(company, company.owner, "fits.csv", fits)).status_code == 201

            # a create cut after its event's seq was reserved: 503, and the retry with the same key makes one contact
            failpoints.arm("publish.seq_reserved")
            headers = {**company.owner.auth, "Idempotency-Key": "contact-1"}
            body = {"name": "Khách Một", "phones": ["0987111222"]}
            cut = await http.post(f"{company.url}/api/contacts", headers=headers, json=body)
            assert cut.status_code == 503, cut.text
            retry = await http.post(f"{company.url}/api/contacts", headers=headers, json=body)
            assert retry.status_code == 201, retry.text
            await console.wait_for(lambda: len(console.of_type("contact.created")) == 1, 20)
            assert [c["id"] for c in await search(company, company.owner, "0987111222")] == [retry.json()["id"]]

            # a delete cut before its event: the retry finishes it, one contact.removed
            failpoints.arm("publish.before_seq")
            headers = {**company.owner.auth, "Idempotency-Key": "contact-1-delete"}
            url = f"{company.url}/api/contacts/{retry.json()['id']}"
            assert (await http.delete(url, headers=headers)).status_code == 503
            assert (await http.delete(url, headers=headers)).status_code == 204
            await console.wait_for(lambda: len(console.of_type("contact.removed")) == 1, 20)
            assert await search(company, company.owner, "0987111222") == []
            failpoints.clear()


async def test_an_email_that_is_no_address_is_refused(company: Company) -> None:
    response = await company.http.post(
        f"{company.url}/api/contacts",
        headers=company.owner.auth,
        json={"name": "A", "phones": ["0912000999"], "email": "nope"},
    )
    assert response.status_code == 422 and response.json()["error"]["message"].startswith("email")
