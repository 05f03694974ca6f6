"""Calls belong to members as they were: a call keeps, for each extension it rang, the member and the
department that held it then; who sees it, the department filter and the statistics follow that."""

from __future__ import annotations

from tests.conftest import Company
from tests.pbx_payloads import Pbx, canonical


async def _give(company: Company, member_id: str, extension: str | None) -> None:
    url = f"{company.url}/api/members/{member_id}/extension"
    if extension is None:
        response = await company.http.delete(url, headers=company.owner.auth)
    else:
        response = await company.http.put(url, headers=company.owner.auth, json={"extension": extension})
    assert response.status_code == 200, response.text


async def _ids(company: Company, person, query: str = "") -> set[str]:
    response = await company.http.get(f"{company.url}/api/calls?{query}", headers=person.auth)
    assert response.status_code == 200, response.text
    return {c["call_id"] for c in response.json()["calls"]}


async def test_a_call_stays_with_the_member_it_rang_after_the_extension_moves(company: Company) -> None:
    secret = (await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    departments = {}
    for name in ("Bán hàng", "Hỗ trợ"):
        departments[name] = (
            await company.http.post(f"{company.url}/api/departments", headers=company.owner.auth, json={"name": name})
        ).json()["id"]
    first = await company.add("user", department_id=departments["Bán hàng"])
    second = await company.add("user", department_id=departments["Hỗ trợ"])
    owner = await company.console(company.owner).connect()

    async def call(kind: str) -> str:
        events = canonical(kind)  # rings 101 (and 102 for second_answers)
        for event in events:
            assert (await pbx.post(company.http, event)).status_code == 200
        await owner.wait_for(
            lambda: any(
                e["data"]["call_id"] == events[0]["call_id"] and e["data"]["outcome"]
                for e in owner.of_type("call.updated")
            )
        )
        return events[0]["call_id"]

    await _give(company, first.id, "101")
    before = await call("answered")  # 101 held by the first member
    await _give(company, first.id, None)
    await _give(company, second.id, "101")
    after = await call("answered")  # 101 now held by the second

    assert before in await _ids(company, first) and after not in await _ids(company, first)
    assert after in await _ids(company, second) and before not in await _ids(company, second)
    assert await _ids(company, company.owner, f"department={departments['Bán hàng']}") >= {before}
    assert after not in await _ids(company, company.owner, f"department={departments['Bán hàng']}")
    record = (
        await company.http.get(
            f"{company.url}/api/calls/{next(iter(await _calls_with(company, before)))}", headers=company.owner.auth
        )
    ).json()
    assert record["departments"] == [departments["Bán hàng"]] and record["members"] == [first.id]
    assert record["answered_member_id"] == first.id

    # statistics per member as the calls found them; a user sees their own row only
    stats = (await company.http.get(f"{company.url}/api/stats/calls?period=month", headers=company.owner.auth)).json()
    per = {row["member_id"]: row for row in stats["per_member"]}
    assert per[first.id]["calls"] == 1 and per[first.id]["answered"] == 1
    assert per[second.id]["calls"] == 1 and per[second.id]["answered"] == 1
    own = (await company.http.get(f"{company.url}/api/stats/calls?period=month", headers=first.auth)).json()
    assert [row["member_id"] for row in own["per_member"]] == [first.id]
    assert own["per_extension"] == [], "the first member holds no extension now: no one else's row either"


async def _calls_with(company: Company, call_id: str) -> list[str]:
    calls = (await company.http.get(f"{company.url}/api/calls", headers=company.owner.auth)).json()["calls"]
    return [c["id"] for c in calls if c["call_id"] == call_id]
