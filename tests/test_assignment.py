"""Who owns each thread, live and enforced: manual assignment, the queue, labels, status, typing."""

from __future__ import annotations

import csv
import io

import openpyxl

from hub.auth import read_token
from tests.conftest import Company, Person
from tests.consoles import TestConsole
from tests.servers import TEST_JWT_SECRET
from tests.zalo_payloads import Oa, zalo_id


async def _new_thread(company: Company, oa: Oa, owner_console: TestConsole, text: str = "Xin chào") -> tuple[str, str]:
    user = zalo_id()
    await oa.deliver(company.http, company.url, oa.user_message(user, text=text))
    await owner_console.wait_for(
        lambda: any(e["data"]["user_id"] == user for e in owner_console.of_type("thread.created"))
    )
    thread = next(e["data"] for e in owner_console.of_type("thread.created") if e["data"]["user_id"] == user)
    return thread["id"], user


async def _assign(company: Company, by: Person, thread_id: str, member_id: str | None):
    return await company.http.post(
        f"{company.url}/api/threads/{thread_id}/assign", headers=by.auth, json={"member_id": member_id}
    )


def _of_thread(console: TestConsole, thread_id: str) -> list[dict]:
    def about(env: dict) -> str | None:
        data = env["data"]
        return data.get("thread_id") or (data.get("id") if env["type"].startswith("thread.") else None)

    return [env for env in console.stored() if about(env) == thread_id]


async def test_reassigned_thread_stops_reaching_old_agent(company: Company, oa: Oa) -> None:
    first, second = await company.add("user"), await company.add("user")
    owner = await company.console(company.owner).connect()
    old = await company.console(first).connect()
    new = await company.console(second).connect()
    thread_id, user = await _new_thread(company, oa, owner)

    assert (await _assign(company, company.owner, thread_id, first.id)).status_code == 200
    await old.wait_for(lambda: old.of_type("thread.assigned"))
    await oa.deliver(company.http, company.url, oa.user_message(user, text="cho agent 1"))
    await old.wait_for(lambda: old.of_type("message.created"))
    assert (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=first.auth)).status_code == 200

    response = await _assign(company, company.owner, thread_id, second.id)
    assert response.status_code == 200 and response.json()["assignee_id"] == second.id
    # right after the reassignment: REST is closed to the old agent, and the next message skips them
    assert (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=first.auth)).status_code == 404
    await oa.deliver(company.http, company.url, oa.user_message(user, text="cho agent 2"))
    await new.wait_for(lambda: new.of_type("message.created"))
    await owner.wait_for(lambda: [e["data"]["text"] for e in owner.of_type("message.created")][-1] == "cho agent 2")

    names = [env["type"] for env in _of_thread(old, thread_id)]
    assert names[-2:] == ["thread.assigned", "thread.removed"], names
    assert "cho agent 2" not in str(old.stored())
    moved = old.of_type("thread.assigned")[-1]["data"]
    assert (moved["from_member_id"], moved["to_member_id"], moved["by_member_id"]) == (
        first.id,
        second.id,
        company.owner.id,
    )
    assert [e["data"]["text"] for e in new.of_type("message.created")] == ["cho agent 2"]
    assert new.of_type("thread.assigned")[0]["data"]["to_member_id"] == second.id

    # and on replay: the old agent's console reconnecting from before the move sees it end the same way
    replayed = TestConsole(company.url, first.token)
    await replayed.connect(last_seq=0)
    assert [env["type"] for env in _of_thread(replayed, thread_id)] == [
        env["type"] for env in _of_thread(old, thread_id)
    ]
    await replayed.disconnect()


async def test_who_may_assign(company: Company, oa: Oa) -> None:
    manager, other_manager, user = await company.add("manager"), await company.add("manager"), await company.add("user")
    owner = await company.console(company.owner).connect()
    thread_id, _ = await _new_thread(company, oa, owner)

    assert (await _assign(company, manager, thread_id, manager.id)).status_code == 404, "not theirs: not visible"
    assert (await _assign(company, company.owner, thread_id, manager.id)).status_code == 200
    assert (await _assign(company, other_manager, thread_id, other_manager.id)).status_code == 404
    assert (await _assign(company, manager, thread_id, None)).status_code == 403, "only the owner queues"
    assert (await _assign(company, manager, thread_id, user.id)).status_code == 200, "a manager hands their own"
    assert (await _assign(company, user, thread_id, manager.id)).status_code == 403
    assert (await _assign(company, company.owner, thread_id, "nobody")).status_code == 422
    mine = await company.http.get(f"{company.url}/api/threads", headers=user.auth)
    assert [t["id"] for t in mine.json()["threads"]] == [thread_id]
    queued = await _assign(company, company.owner, thread_id, None)
    assert queued.status_code == 200 and queued.json()["assignee_id"] is None and queued.json()["queued_at"]
    waiting = await company.http.get(f"{company.url}/api/threads?assignee=none", headers=company.owner.auth)
    assert [t["id"] for t in waiting.json()["threads"]] == [thread_id]


async def test_labels_live_on_threads_and_filter_them(company: Company, oa: Oa) -> None:
    user = await company.add("user")
    owner = await company.console(company.owner).connect()
    agent = await company.console(user).connect()
    first, _ = await _new_thread(company, oa, owner)
    second, _ = await _new_thread(company, oa, owner)
    await _assign(company, company.owner, first, user.id)

    assert (
        await company.http.post(f"{company.url}/api/labels", headers=user.auth, json={"name": "VIP"})
    ).status_code == 403
    created = await company.http.post(
        f"{company.url}/api/labels", headers=company.owner.auth, json={"name": "Khiếu nại", "color": "#ff0000"}
    )
    assert created.status_code == 201
    label = created.json()["id"]
    await agent.wait_for(lambda: agent.of_type("label.created"))

    tagged = await company.http.post(
        f"{company.url}/api/threads/{first}/labels", headers=user.auth, json={"label_id": label}
    )
    assert tagged.status_code == 200 and tagged.json()["labels"] == [label]
    await agent.wait_for(lambda: any(e["data"]["labels"] == [label] for e in agent.of_type("thread.updated")))
    filtered = await company.http.get(f"{company.url}/api/threads?label={label}", headers=company.owner.auth)
    assert [t["id"] for t in filtered.json()["threads"]] == [first]
    assert second not in str(filtered.json())

    assert (
        await company.http.delete(f"{company.url}/api/labels/{label}", headers=company.owner.auth)
    ).status_code == 204
    await agent.wait_for(lambda: agent.of_type("thread.updated")[-1]["data"]["labels"] == [])


async def test_resolve_keeps_history_and_a_new_message_reopens(company: Company, oa: Oa) -> None:
    user = await company.add("user")
    owner = await company.console(company.owner).connect()
    thread_id, zalo_user = await _new_thread(company, oa, owner)
    await _assign(company, company.owner, thread_id, user.id)
    resolved = await company.http.post(f"{company.url}/api/threads/{thread_id}/resolve", headers=user.auth)
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    await oa.deliver(company.http, company.url, oa.user_message(zalo_user, text="lại là tôi"))
    await owner.wait_for(lambda: owner.of_type("thread.updated")[-1]["data"]["status"] == "open")
    page = await company.http.get(f"{company.url}/api/threads/{thread_id}/messages", headers=user.auth)
    assert [m["text"] for m in page.json()["messages"]] == ["lại là tôi", "Xin chào"]


async def test_a_message_after_other_routes_changed_the_thread_carries_the_thread_as_it_is(
    company: Company, oa: Oa
) -> None:
    """Chat ingest keeps the threads it wrote in memory (hub.threads); assignment, labels and resolving
    write elsewhere. The next message must start from the stored thread, not the remembered one."""
    user = await company.add("user")
    owner = await company.console(company.owner).connect()
    thread_id, zalo_user = await _new_thread(company, oa, owner)
    await _assign(company, company.owner, thread_id, user.id)
    resolved = await company.http.post(f"{company.url}/api/threads/{thread_id}/resolve", headers=user.auth)
    assert resolved.status_code == 200
    await oa.deliver(company.http, company.url, oa.user_message(zalo_user, text="còn tôi đây"))
    await owner.wait_for(lambda: owner.of_type("message.created")[-1]["data"]["text"] == "còn tôi đây")
    latest = owner.of_type("thread.updated")[-1]["data"]
    assert latest["assignee_id"] == user.id and latest["status"] == "open" and latest["resolved_at"] is None
    stored = (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=user.auth)).json()
    assert latest["version"] == stored["version"] and latest["unread"] == stored["unread"]


async def test_unread_belongs_to_the_assignee(company: Company, oa: Oa) -> None:
    user = await company.add("user")
    owner = await company.console(company.owner).connect()
    thread_id, _ = await _new_thread(company, oa, owner)
    await _assign(company, company.owner, thread_id, user.id)
    peek = await company.http.post(f"{company.url}/api/threads/{thread_id}/read", headers=company.owner.auth)
    assert peek.json()["unread"] == 1, "the owner looking in does not clear the agent's count"
    read = await company.http.post(f"{company.url}/api/threads/{thread_id}/read", headers=user.auth)
    assert read.json()["unread"] == 0


async def test_typing_and_viewing_reach_the_other_entitled_consoles_only(company: Company, oa: Oa) -> None:
    agent, bystander = await company.add("user"), await company.add("user")
    owner = await company.console(company.owner).connect()
    agent_console = await company.console(agent).connect()
    bystander_console = await company.console(bystander).connect()
    thread_id, _ = await _new_thread(company, oa, owner)
    await _assign(company, company.owner, thread_id, agent.id)

    answer = await agent_console.client.call("typing", {"thread_id": thread_id})
    assert answer == {"ok": True}
    await owner.wait_for(lambda: owner.ephemeral("typing"))
    assert owner.ephemeral("typing") == [{"thread_id": thread_id, "member_id": agent.id}]
    assert await bystander_console.client.call("typing", {"thread_id": thread_id}) == {"ok": False}
    await owner.client.call("thread.viewing", {"thread_id": thread_id, "viewing": True})
    await agent_console.wait_for(lambda: agent_console.ephemeral("thread.viewing"))
    assert agent_console.ephemeral("thread.viewing")[0] == {
        "thread_id": thread_id,
        "member_id": company.owner.id,
        "viewing": True,
    }
    await owner.disconnect()
    await agent_console.wait_for(lambda: len(agent_console.ephemeral("thread.viewing")) == 2)
    assert agent_console.ephemeral("thread.viewing")[1]["viewing"] is False
    # ephemeral: not sequenced, and a replay does not bring them back
    assert all(
        "seq" not in data for data in agent_console.ephemeral("typing") + agent_console.ephemeral("thread.viewing")
    )
    assert bystander_console.ephemeral("typing") == [] and bystander_console.ephemeral("thread.viewing") == []
    again = TestConsole(company.url, company.owner.token)
    await again.connect(last_seq=0)
    assert again.ephemeral("typing") == []
    await again.disconnect()


async def test_a_member_who_loses_a_thread_stops_viewing_it(company: Company, oa: Oa) -> None:
    first, second = await company.add("user"), await company.add("user")
    owner = await company.console(company.owner).connect()
    old = await company.console(first).connect()
    new = await company.console(second).connect()
    thread_id, _ = await _new_thread(company, oa, owner)
    await _assign(company, company.owner, thread_id, first.id)
    await old.wait_for(lambda: old.of_type("thread.assigned"))
    assert await old.client.call("thread.viewing", {"thread_id": thread_id, "viewing": True}) == {"ok": True}

    def viewing_of(console: TestConsole, member_id: str) -> list[bool]:
        return [e["viewing"] for e in console.ephemeral("thread.viewing") if e["member_id"] == member_id]

    await owner.wait_for(lambda: viewing_of(owner, first.id) == [True])

    # the old agent's console says nothing more: it is the hub that knows the thread left them
    assert (await _assign(company, company.owner, thread_id, second.id)).status_code == 200
    await owner.wait_for(lambda: viewing_of(owner, first.id) == [True, False])
    await new.wait_for(lambda: viewing_of(new, first.id) == [False])
    assert owner.ephemeral("thread.viewing")[-1] == {"thread_id": thread_id, "member_id": first.id, "viewing": False}

    # said once: the old console closing later does not announce it again
    await old.disconnect()
    await owner.wait_for(lambda: {"member_id": first.id, "status": "offline"} in owner.ephemeral("presence.updated"))
    assert viewing_of(owner, first.id) == [True, False]


async def test_thread_list_pages_through_every_thread_once(company: Company, oa: Oa) -> None:
    same_moment = oa.ts()
    for n in range(4):
        message = oa.user_message(zalo_id(), text=f"tin {n}")
        if n < 2:
            message["timestamp"] = same_moment  # two threads tie on their last message's time
        assert (await oa.deliver(company.http, company.url, message)).status_code == 200
    for _ in range(2):  # followed, never wrote: no message at all
        assert (await oa.deliver(company.http, company.url, oa.follow(zalo_id()))).status_code == 200
    url = f"{company.url}/api/threads"
    everything = [t["id"] for t in (await company.http.get(url, headers=company.owner.auth)).json()["threads"]]
    assert len(everything) == 6

    paged, after = [], None
    while True:
        page = (
            await company.http.get(
                url, headers=company.owner.auth, params={"limit": 2, **({"after": after} if after else {})}
            )
        ).json()["threads"]
        if not page:
            break
        paged += [t["id"] for t in page]
        after = page[-1]["id"]
    assert paged == everything, "every thread once, in the list's order"
    outsider = await company.add("user")
    refused = await company.http.get(url, headers=outsider.auth, params={"after": everything[0]})
    assert refused.status_code == 404, "a cursor the member may not see is refused"


async def test_thread_list_exports_as_the_list_shows_it(company: Company, oa: Oa, runtime) -> None:
    for n in range(5):
        message = oa.user_message(zalo_id(), text=f"xin chào {n}")
        assert (await oa.deliver(company.http, company.url, message)).status_code == 200
    url = f"{company.url}/api/threads"
    listed = (await company.http.get(url, headers=company.owner.auth, params={"limit": 200})).json()["threads"]
    assert len(listed) == 5
    # Read a page at a time, as the export does: pages of 2 give the list's threads in its order.
    owner = read_token(TEST_JWT_SECRET, company.owner.token)
    assert [t.id async for t in await runtime.threads.each(owner, batch=2)] == [t["id"] for t in listed]

    response = await company.http.get(f"{url}/export", headers=company.owner.auth, params={"lang": "en"})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:4] == ("Customer", "Phone", "OA", "Status")
    assert [(r[2], r[3], r[6], r[8]) for r in rows] == [
        (t["oa_id"], "Open", t["unread"], t["last_message"]["text"]) for t in listed
    ]

    response = await company.http.get(f"{url}/export", headers=company.owner.auth, params={"format": "csv"})
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[3] == "Trạng thái" and [r[8] for r in rows] == [t["last_message"]["text"] for t in listed]
    # Same visibility as the list: a user with no thread gets the header alone.
    user = await company.add("user")
    response = await company.http.get(f"{url}/export", headers=user.auth, params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) == 1
