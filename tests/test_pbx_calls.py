"""PBX calls end to end: signed webhooks in three formats, call records, missed-call alerts, live events."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

from hub.auth import read_token
from hub.calls import CallFilter
from tests.conftest import Company, Person, make_company
from tests.consoles import TestConsole
from tests.pbx_payloads import CALLER, HOTLINE, Pbx, canonical, etelecom, twilio
from tests.servers import TEST_JWT_SECRET

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pbx"


async def _pbx(company: Company, url: str | None = None) -> Pbx:
    response = await company.http.post(f"{url or company.url}/api/pbx/secret", headers=company.owner.auth)
    assert response.status_code == 201
    return Pbx(url=url or company.url, company_code=company.code, secret=response.json()["secret"])


async def _agent(company: Company, extension: str, url: str | None = None) -> Person:
    person = await company.add("user", url=url)
    response = await company.http.put(
        f"{url or company.url}/api/members/{person.id}/extension",
        headers=company.owner.auth,
        json={"extension": extension},
    )
    assert response.status_code == 200
    return person


async def _call(company: Company, console: TestConsole, call_id: str, final: bool = True) -> dict:
    """The call's last call.updated as the console saw it (once finalized, when asked)."""

    def latest() -> dict | None:
        updates = [e["data"] for e in console.of_type("call.updated") if e["data"]["call_id"] == call_id]
        return updates[-1] if updates else None

    await console.wait_for(lambda: (r := latest()) is not None and (r["outcome"] is not None or not final))
    return latest()


def _missed(console: TestConsole, call_id: str) -> list[dict]:
    return [e["data"] for e in console.of_type("call.missed") if e["data"]["call_id"] == call_id]


async def test_bad_pbx_webhooks_are_refused_and_store_nothing(company: Company, runtime) -> None:
    events = canonical("answered")
    unsigned = Pbx(company.url, company.code, "not-yet")
    response = await unsigned.post(company.http, events[0])
    assert response.status_code == 401 and "POST /api/pbx/secret" in response.json()["error"]["message"]
    pbx = await _pbx(company)
    assert (await pbx.post(company.http, events[0], secret="wrong")).status_code == 401
    old = await pbx.post(company.http, events[0], at=__import__("time").time() - 301)
    assert old.status_code == 401 and old.json()["error"]["code"] == "stale_signature"
    raw = await company.http.post(f"{company.url}/webhooks/pbx/{company.code}", json=events[0])
    assert raw.status_code == 401
    assert (await pbx.post(company.http, events[0], fmt="asterisk")).status_code == 400
    assert (await pbx.post(company.http, {**events[0], "event": "exploded"})).status_code == 400
    assert (await pbx.post(company.http, {"id": "x"}, fmt="etelecom")).status_code == 400
    nobody = await company.http.post(f"{company.url}/webhooks/pbx/no-such-co", content=b"{}")
    assert nobody.status_code == 404
    assert await runtime.store.calls.count_documents({"company_id": company.id}) == 0
    assert await runtime.store.call_events.count_documents({"company_id": company.id}) == 0


@pytest.mark.parametrize(
    "kind,reason,missed",
    [
        ("answered", "completed", False),
        ("busy", "busy", True),
        ("no_answer", "no_answer", True),
        ("caller_cancelled", "caller_cancelled", True),
        ("queued_abandoned", "abandoned", True),
        ("transferred", "completed", False),
        ("second_answers", "completed", False),
        ("short_cancel", "caller_cancelled", False),
    ],
)
async def test_canonical_sequences_become_one_record_and_at_most_one_alert(
    company: Company, kind: str, reason: str, missed: bool
) -> None:
    pbx = await _pbx(company)
    owner = await company.console(company.owner).connect()
    events = canonical(kind)
    for event in events:
        assert (await pbx.post(company.http, event)).status_code == 200
    record = await _call(company, owner, events[0]["call_id"])
    assert record["end_reason"] == reason and record["missed"] is missed
    assert record["legs"] and record["from_number"] == CALLER and record["hotline"] == HOTLINE
    listed = await company.http.get(f"{company.url}/api/calls", headers=company.owner.auth)
    assert [c["call_id"] for c in listed.json()["calls"]] == [events[0]["call_id"]]
    if missed:
        await owner.wait_for(lambda: _missed(owner, events[0]["call_id"]))
        alert = _missed(owner, events[0]["call_id"])[0]
        assert alert["from"] == CALLER and alert["end_reason"] == reason and alert["rang"]
        assert alert["text"]["en"].startswith(f"Missed call from {CALLER} to {HOTLINE}: rang ")
    # a later call's final update marks the end of everything the first could still cause
    marker = canonical("answered")
    for event in marker:
        await pbx.post(company.http, event)
    await _call(company, owner, marker[0]["call_id"])
    assert len(_missed(owner, events[0]["call_id"])) == (1 if missed else 0)


async def test_live_events_follow_the_call_and_its_extension(company: Company) -> None:
    pbx = await _pbx(company)
    agent = await _agent(company, "101")
    owner = await company.console(company.owner).connect()
    mine = await company.console(agent).connect()
    events = canonical("answered")
    for event in events[:3]:  # ringing, answered, held
        await pbx.post(company.http, event)
    await mine.wait_for(
        lambda: [e["data"]["state"] for e in mine.of_type("extension.state")] == ["ringing", "in_call", "on_hold"]
    )
    states = [e["data"]["state"] for e in mine.of_type("call.updated")]
    assert states == ["ringing", "answered", "held"]
    live = await company.http.get(f"{company.url}/api/calls/live", headers=agent.auth)
    assert [c["state"] for c in live.json()["calls"]] == ["held"]
    for event in events[3:]:
        await pbx.post(company.http, event)
    await mine.wait_for(lambda: mine.of_type("extension.state")[-1]["data"]["state"] == "idle")
    record = await _call(company, owner, events[0]["call_id"])
    assert record["talk_s"] == 60 and record["recording_urls"] == [events[-1]["recording_url"]]
    assert (await company.http.get(f"{company.url}/api/calls/live", headers=agent.auth)).json()["calls"] == []


async def test_shuffled_duplicated_concurrent_delivery_gives_the_same_record_and_one_alert(company: Company) -> None:
    pbx = await _pbx(company)
    owner = await company.console(company.owner).connect()
    ordered, shuffled = canonical("no_answer"), canonical("no_answer")
    for event in ordered:
        await pbx.post(company.http, event)
    rng = random.Random(5)
    deliveries = shuffled * 3
    rng.shuffle(deliveries)
    answers = await asyncio.gather(*[pbx.post(company.http, event) for event in deliveries])
    assert all(a.status_code == 200 for a in answers)
    first = await _call(company, owner, ordered[0]["call_id"])
    second = await _call(company, owner, shuffled[0]["call_id"])
    keys = ("state", "end_reason", "extensions", "wait_s", "missed", "outcome", "duration_s")
    assert {k: first[k] for k in keys} == {k: second[k] for k in keys}
    assert [(leg["extension"], leg["ring_s"], leg["end_reason"]) for leg in first["legs"]] == [
        (leg["extension"], leg["ring_s"], leg["end_reason"]) for leg in second["legs"]
    ]
    marker = canonical("answered")
    for event in marker:
        await pbx.post(company.http, event)
    await _call(company, owner, marker[0]["call_id"])
    assert len(_missed(owner, ordered[0]["call_id"])) == 1 and len(_missed(owner, shuffled[0]["call_id"])) == 1


async def test_two_processes_raise_one_missed_alert(pair_runtime, hub_pair, http) -> None:
    first, second = hub_pair
    company = await make_company(pair_runtime, first.url, http)
    pbx = await _pbx(company)
    owner = await company.console(company.owner, second.url).connect()
    events = canonical("busy")
    deliveries = [(url, event) for event in events for url in (first.url, second.url)]
    random.Random(3).shuffle(deliveries)
    await asyncio.gather(*[Pbx(url, company.code, pbx.secret).post(http, event) for url, event in deliveries])
    await owner.wait_for(lambda: _missed(owner, events[0]["call_id"]))
    marker = canonical("answered")
    for event in marker:
        await pbx.post(http, event)
    await _call(company, owner, marker[0]["call_id"])
    assert len(_missed(owner, events[0]["call_id"])) == 1


@pytest.mark.parametrize(
    "kind,reason,answered_by,missed",
    [
        ("answered", "completed", "101", False),
        ("second_answers", "completed", "102", False),
        ("no_answer", "no_answer", None, True),
        ("busy", "busy", None, True),
        ("caller_cancelled", "caller_cancelled", None, True),
        ("queued_abandoned", "abandoned", None, True),
        ("transferred", "completed", "101", False),
    ],
)
async def test_etelecom_call_logs(
    company: Company, kind: str, reason: str, answered_by: str | None, missed: bool
) -> None:
    pbx = await _pbx(company)
    owner = await company.console(company.owner).connect()
    log = etelecom(kind)
    response = await pbx.post(company.http, log, fmt="etelecom")
    assert response.status_code == 200
    record = await _call(company, owner, log["id"])
    assert (record["end_reason"], record["answered_by"], record["missed"]) == (reason, answered_by, missed)
    assert record["direction"] == "inbound" and record["hotline"] == HOTLINE
    assert (await pbx.post(company.http, log, fmt="etelecom")).json()["outcome"] == "duplicate"
    if missed:
        await owner.wait_for(lambda: _missed(owner, log["id"]))


@pytest.mark.parametrize(
    "kind,reason,missed,extensions,answered_by",
    [
        ("answered", "completed", False, ["101"], "101"),
        ("caller_cancelled", "caller_cancelled", True, ["101"], None),
        ("no_answer", "no_answer", True, ["101"], None),
        ("busy", "busy", True, ["101"], None),
        ("queued_abandoned", "abandoned", True, [], None),
        ("second_answers", "completed", False, ["101", "102"], "102"),
        ("transferred", "completed", False, ["101", "102"], "101"),
    ],
)
async def test_twilio_status_callbacks(
    company: Company, kind: str, reason: str, missed: bool, extensions: list[str], answered_by: str | None
) -> None:
    pbx = await _pbx(company)
    owner = await company.console(company.owner).connect()
    callbacks = twilio(kind)
    for callback in reversed(callbacks):  # Twilio does not promise order
        assert (await pbx.post(company.http, callback, fmt="twilio")).status_code == 200
    record = await _call(company, owner, callbacks[0]["CallSid"])
    assert (record["end_reason"], record["missed"]) == (reason, missed)
    assert record["extensions"] == extensions, "child legs folded into the parent call"
    assert record["answered_by"] == answered_by
    assert record["end_reason_text"]["en"]
    if missed:
        await owner.wait_for(lambda: len(_missed(owner, callbacks[0]["CallSid"])) == 1)


@pytest.mark.parametrize(
    "name",
    ["twilio_status_completed__boomerrang_test.json", "twilio_status_completed_answeredby_human__boomerrang_test.json"],
)
async def test_recorded_twilio_callbacks_are_accepted(company: Company, name: str, runtime) -> None:
    pbx = await _pbx(company)
    callback = json.loads((FIXTURES / name).read_text())
    response = await pbx.post(company.http, callback, fmt="twilio")
    assert response.status_code == 200, response.text
    stored = await runtime.store.calls.find_one({"company_id": company.id, "call_id": callback["CallSid"]})
    assert stored["state"] == "ended" and stored["from_number"] == "+15555550100"
    assert str(stored["started_at"].year) == "1989", "the non-RFC Timestamp was read"


async def test_a_user_sees_only_their_own_extensions_calls(company: Company) -> None:
    pbx = await _pbx(company)
    agent101, agent102 = await _agent(company, "101"), await _agent(company, "102")
    owner = await company.console(company.owner).connect()
    console101 = await company.console(agent101).connect()
    theirs, mine = canonical("no_answer"), canonical("answered")  # rings 102, then 101
    for event in theirs + mine:
        await pbx.post(company.http, event)
    await _call(company, owner, theirs[0]["call_id"])
    await _call(company, console101, mine[0]["call_id"])
    await owner.wait_for(lambda: _missed(owner, theirs[0]["call_id"]))
    calls = (await company.http.get(f"{company.url}/api/calls", headers=agent101.auth)).json()["calls"]
    assert [c["call_id"] for c in calls] == [mine[0]["call_id"]]
    assert {e["data"]["call_id"] for e in console101.of_type("call.updated")} == {mine[0]["call_id"]}
    assert console101.of_type("call.missed") == []
    other = (await company.http.get(f"{company.url}/api/calls", headers=agent102.auth)).json()["calls"]
    assert [c["call_id"] for c in other] == [theirs[0]["call_id"]]
    hidden = await company.http.get(f"{company.url}/api/calls/{other[0]['id']}", headers=agent101.auth)
    assert hidden.status_code == 404

    # Live states as the extension.state events tell them: to a user, only their own extension's.
    def rang_102() -> int:
        return sum(
            e["data"]["extension"] == "102" and e["data"]["state"] == "ringing"
            for e in owner.of_type("extension.state")
        )

    before = rang_102()
    await pbx.post(company.http, canonical("no_answer")[0])  # 102 rings and stays ringing
    await owner.wait_for(lambda: rang_102() > before)
    by_owner = (await company.http.get(f"{company.url}/api/extensions", headers=company.owner.auth)).json()
    assert {e["number"]: e["state"] for e in by_owner["extensions"]} == {"101": "idle", "102": "ringing"}
    by_user = (await company.http.get(f"{company.url}/api/extensions", headers=agent101.auth)).json()
    assert {e["number"]: e["state"] for e in by_user["extensions"]} == {"101": "idle", "102": None}


async def test_history_filters_and_dashboard(company: Company) -> None:
    pbx = await _pbx(company)
    department = (
        await company.http.post(f"{company.url}/api/departments", headers=company.owner.auth, json={"name": "Sales"})
    ).json()["id"]
    agent = await company.add("user", department_id=department)
    await company.http.put(
        f"{company.url}/api/members/{agent.id}/extension", headers=company.owner.auth, json={"extension": "102"}
    )
    owner = await company.console(company.owner).connect()
    sequences = {kind: canonical(kind) for kind in ("answered", "no_answer", "second_answers", "short_cancel")}
    for events in sequences.values():
        for event in events:
            await pbx.post(company.http, event)
    for events in sequences.values():
        await _call(company, owner, events[0]["call_id"])

    async def ids(query: str) -> set[str]:
        response = await company.http.get(f"{company.url}/api/calls?{query}", headers=company.owner.auth)
        assert response.status_code == 200, response.text
        return {c["call_id"] for c in response.json()["calls"]}

    call = {kind: events[0]["call_id"] for kind, events in sequences.items()}
    assert await ids("status=missed") == {call["no_answer"]}
    assert await ids("status=answered") == {call["answered"], call["second_answers"]}
    assert await ids("status=short_abandoned") == {call["short_cancel"]}
    assert await ids("extension=102") == {call["no_answer"], call["second_answers"]}
    assert await ids(f"department={department}") == {call["no_answer"], call["second_answers"]}
    assert await ids(f"hotline={HOTLINE}&direction=inbound") == set(call.values())
    assert await ids("direction=outbound") == set()
    stats = (await company.http.get(f"{company.url}/api/stats/calls?period=month", headers=company.owner.auth)).json()
    assert stats["total_calls"] == 4
    per = {row["extension"]: row for row in stats["per_extension"]}
    assert per["101"]["calls"] == 3 and per["101"]["answered"] == 1
    assert per["102"] == {"extension": "102", "calls": 2, "answered": 1, "missed": 1, "failed": 0, "duration_s": 60.0}


async def test_history_pages_through_every_call_once_newest_first(company: Company) -> None:
    pbx = await _pbx(company)
    base = datetime.now(UTC) - timedelta(hours=1)
    # Eleven calls, three pairs of them starting in the very same millisecond: the id breaks the tie.
    starts = [base - timedelta(minutes=minute) for minute in (0, 1, 1, 2, 3, 3, 4, 5, 5, 6, 7)]
    for n, start in enumerate(starts):
        for event in canonical("answered", base=start, call_id=f"page-{n:02d}"):
            assert (await pbx.post(company.http, event)).status_code < 300
    seen: list[dict] = []
    before: str | None = None
    pages = 0
    while True:
        params = {"limit": "3", "hotline": HOTLINE, **({"before": before} if before else {})}
        response = await company.http.get(f"{company.url}/api/calls", headers=company.owner.auth, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["calls"]
        pages += 1
        before = page["next_before"]
        if before is None:
            break
        assert len(page["calls"]) == 3
    assert pages == 4
    ids = [c["call_id"] for c in seen]
    assert sorted(ids) == [f"page-{n:02d}" for n in range(len(starts))]  # every call, none twice
    order = [(c["started_at"], c["id"]) for c in seen]
    assert order == sorted(order, reverse=True)

    missing = await company.http.get(
        f"{company.url}/api/calls", headers=company.owner.auth, params={"before": "no-such-call"}
    )
    assert missing.status_code == 422
    agent = await company.add("user")  # a call the user may not see is no cursor for them either
    hidden = await company.http.get(f"{company.url}/api/calls", headers=agent.auth, params={"before": seen[0]["id"]})
    assert hidden.status_code == 422


async def test_hotlines_and_extensions_are_managed_by_owners_and_managers(company: Company) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    url = company.url
    assert (
        await company.http.post(f"{url}/api/hotlines", headers=user.auth, json={"number": "1900"})
    ).status_code == 403
    created = await company.http.post(
        f"{url}/api/hotlines", headers=manager.auth, json={"number": "19001234", "name": "CSKH"}
    )
    assert created.status_code == 201
    assert (
        await company.http.post(f"{url}/api/hotlines", headers=manager.auth, json={"number": "19001234"})
    ).status_code == 409
    listed = await company.http.get(f"{url}/api/hotlines", headers=user.auth)
    assert [h["number"] for h in listed.json()["hotlines"]] == ["19001234"]
    assert (
        await company.http.post(f"{url}/api/extensions", headers=manager.auth, json={"number": "201"})
    ).status_code == 201
    given = await company.http.put(
        f"{url}/api/members/{user.id}/extension", headers=manager.auth, json={"extension": "201"}
    )
    assert given.status_code == 200 and given.json()["extension"] == "201"
    assert (await company.http.delete(f"{url}/api/extensions/201", headers=manager.auth)).status_code == 409
    await company.http.delete(f"{url}/api/members/{user.id}/extension", headers=manager.auth)
    extensions = (await company.http.get(f"{url}/api/extensions", headers=manager.auth)).json()["extensions"]
    assert extensions == [{"number": "201", "member_id": None, "name": None, "listed": True, "state": "idle"}], (
        "the PBX still has it, free"
    )
    assert (await company.http.delete(f"{url}/api/extensions/201", headers=manager.auth)).status_code == 204
    assert (
        await company.http.delete(f"{url}/api/hotlines/{created.json()['id']}", headers=manager.auth)
    ).status_code == 204
    assert (await company.http.post(f"{url}/api/pbx/secret", headers=manager.auth)).status_code == 403


async def test_export_gives_the_historys_calls_as_xlsx_and_csv(company: Company, runtime) -> None:
    pbx = await _pbx(company)
    sales = (
        await company.http.post(
            f"{company.url}/api/departments", headers=company.owner.auth, json={"name": "Kinh doanh"}
        )
    ).json()["id"]
    agent = await company.add("user", department_id=sales)
    await company.http.put(
        f"{company.url}/api/members/{agent.id}/extension", headers=company.owner.auth, json={"extension": "102"}
    )
    owner = await company.console(company.owner).connect()
    base = datetime.now(UTC) - timedelta(hours=2)
    kinds = ("answered", "no_answer", "second_answers", "short_cancel", "answered", "no_answer", "second_answers")
    for n, kind in enumerate(kinds):
        for event in canonical(kind, base=base - timedelta(minutes=n), call_id=f"exp-{n}"):
            assert (await pbx.post(company.http, event)).status_code < 300
    for n in range(len(kinds)):
        await _call(company, owner, f"exp-{n}")

    async def history(who: Person, query: dict) -> list[dict]:
        response = await company.http.get(f"{company.url}/api/calls", headers=who.auth, params={**query, "limit": 500})
        assert response.status_code == 200
        return response.json()["calls"]

    async def export(who: Person, query: dict) -> httpx.Response:
        response = await company.http.get(f"{company.url}/api/calls/export", headers=who.auth, params=query)
        assert response.status_code == 200, response.text
        return response

    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    words = {"answered": "Answered", "missed": "Missed", "short_abandoned": "Short abandoned", "failed": "Failed"}

    def expected(call: dict, lang: str) -> list:
        started = datetime.fromisoformat(call["started_at"]).astimezone(zone).replace(tzinfo=None, microsecond=0)
        outcome = (
            words[call["outcome"]]
            if lang == "en"
            else {"answered": "Đã nghe", "missed": "Gọi nhỡ"}.get(call["outcome"], "Bỏ máy sớm")
        )
        return [
            started,
            "Inbound" if lang == "en" else "Gọi vào",
            call["from_number"],
            call["to_number"],
            call["hotline"],
            ", ".join(call["extensions"]),
            "Kinh doanh" if sales in call["departments"] else None,
            outcome,
            call["wait_s"],
            call["talk_s"],
            call["end_reason_text"][lang],
            " ".join(call["recording_urls"]) or None,
        ]

    query = {"hotline": HOTLINE, "from": (base - timedelta(hours=1)).isoformat()}
    calls = await history(company.owner, query)
    assert len(calls) == len(kinds)
    response = await export(company.owner, {**query, "format": "xlsx", "lang": "en"})
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[0] == "Time" and header[6] == "Department" and len(header) == 12
    rows = [[r[0].replace(microsecond=0), *r[1:]] for r in rows]
    assert rows == [expected(call, "en") for call in calls]

    # The export reads the history's cursor a batch at a time: batches of 2 give the same calls in the same order.
    owner_principal = read_token(TEST_JWT_SECRET, company.owner.token)
    read = [c.id async for c in runtime.calls.each(owner_principal, CallFilter(hotline=HOTLINE), batch=2)]
    assert read == [c["id"] for c in calls]

    answered = await history(company.owner, {**query, "status": "answered"})
    response = await export(company.owner, {**query, "status": "answered", "format": "csv", "lang": "vi"})
    assert response.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[0] == "Thời điểm" and len(rows) == len(answered) == 4

    def as_text(cell: object) -> str:
        return "" if cell is None else cell.strftime("%Y-%m-%d %H:%M:%S") if isinstance(cell, datetime) else str(cell)

    assert rows == [[as_text(cell) for cell in expected(call, "vi")] for call in answered]

    # Same visibility as the history: the user sees in the file the calls that rang them, no others.
    mine = await history(agent, {})
    response = await export(agent, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    assert 0 < len(rows) == len(mine) < len(kinds)
    assert [r[5] for r in rows] == [", ".join(c["extensions"]) for c in mine]
    refused = await company.http.get(f"{company.url}/api/calls/export?format=pdf", headers=company.owner.auth)
    assert refused.status_code == 422
