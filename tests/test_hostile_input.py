"""Bad input never breaks the hub: hostile and careless requests get a clear 4xx and change nothing,
and a removed member's token opens nothing. Ends with a property-based test (hypothesis) over every
route of /api/openapi.json and both webhooks."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.runtime import Runtime
from tests.conftest import Company, make_company
from tests.pbx_payloads import Pbx, canonical
from tests.servers import HubProcess
from tests.zalo_payloads import Oa, sign, zalo_id
from webhooks.pbx import sign as pbx_sign


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body["error"]) >= {"code", "message"}, body
    return body["error"]


# -- 1. a removed member's token, a changed role ----------------------------------------------------


async def test_a_removed_members_token_opens_nothing(company: Company) -> None:
    manager = await company.add("manager")
    assert (await company.http.get(f"{company.url}/api/members", headers=manager.auth)).status_code == 200
    removed = await company.http.delete(f"{company.url}/api/members/{manager.id}", headers=company.owner.auth)
    assert removed.status_code == 204
    for method, path, body in (
        ("GET", "/api/members", None),
        ("GET", "/api/calls", None),
        ("GET", "/api/company", None),
        ("GET", "/api/consents", None),
        ("POST", "/api/labels", {"name": "still here?"}),
    ):
        response = await company.http.request(method, company.url + path, headers=manager.auth, json=body)
        assert response.status_code == 401 and _error(response)["code"] == "member_removed", (path, response.text)
    labels = (await company.http.get(f"{company.url}/api/labels", headers=company.owner.auth)).json()["labels"]
    assert "still here?" not in [label["name"] for label in labels]


async def test_a_role_change_applies_to_a_token_within_a_second(company: Company, runtime: Runtime) -> None:
    manager = await company.add("manager")
    assert (await company.http.get(f"{company.url}/api/members", headers=manager.auth)).status_code == 200
    await runtime.store.members.update_one({"_id": manager.id}, {"$set": {"role": "user"}})
    deadline = time.monotonic() + 3
    status = 200
    while status == 200 and time.monotonic() < deadline:  # every process re-reads the member within 1 s
        status = (await company.http.get(f"{company.url}/api/members", headers=manager.auth)).status_code
    assert status == 403


# -- 2. JSON nested too deeply ------------------------------------------------------------------------


async def test_json_nested_too_deeply_is_400_on_every_json_endpoint(company: Company, oa: Oa) -> None:
    document = (await company.http.get(f"{company.url}/api/openapi.json")).json()
    with_body = [
        (method.upper(), path)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    ]
    assert len(with_body) >= 18
    for method, path in with_body:
        url = company.url + re.sub(r"\{[^}]+\}", "x" * 24, path)
        response = await company.http.request(
            method, url, headers={**company.owner.auth, "Content-Type": "application/json"}, content=_deep(100_000)
        )
        assert response.status_code in (400, 404), (path, response.status_code, response.text[:200])
        assert _error(response)["code"] in (
            "malformed_json",
            "thread_not_found",
            "member_not_found",
            "not_found",
            "oa_link_not_found",
        )
    login = await company.http.post(f"{company.url}/api/auth/login", content=_deep(100_000))
    assert login.status_code == 400 and _error(login)["code"] == "malformed_json"
    zalo = await company.http.post(
        f"{company.url}/webhooks/zalo", content=_deep(100_000), headers={"X-ZEvent-Signature": "mac=" + "0" * 64}
    )
    assert zalo.status_code == 400 and _error(zalo)["code"] == "malformed_json"


# -- 3. PBX times no calendar holds -------------------------------------------------------------------


@pytest.mark.parametrize("occurred_at", [1e20, -1e20, 1e300, "Infinity", "NaN"])
async def test_a_pbx_time_out_of_range_is_refused_by_name(company: Company, occurred_at: Any) -> None:
    secret = (await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(url=company.url, company_code=company.code, secret=secret)
    event = canonical("answered")[0]
    raw = json.dumps({**event, "occurred_at": "__T__"}).replace('"__T__"', str(occurred_at)).encode()
    stamp = int(time.time())
    response = await company.http.post(
        f"{company.url}/webhooks/pbx/{company.code}",
        content=raw,
        headers={"X-Hub-Signature": pbx_sign(secret, stamp, raw), "Content-Type": "application/json"},
    )
    # DESIGN section 4: a PBX payload that fails validation is 400; the message names the field.
    assert response.status_code == 400, response.text
    assert "occurred_at" in _error(response)["message"]
    assert (await pbx.post(company.http, event)).status_code == 200, "the PBX's next event still goes in"


# -- 4. Zalo payloads the hub cannot apply or BSON cannot hold -----------------------------------------


@pytest.mark.parametrize("timestamp", ["abc", "", "-99999999999999", "9" * 23])
async def test_a_signed_zalo_event_with_an_odd_timestamp_is_kept_raw(
    company: Company, oa: Oa, runtime: Runtime, timestamp: str
) -> None:
    payload = {**oa.user_message(zalo_id()), "timestamp": timestamp}
    response = await oa.deliver(company.http, company.url, payload)
    assert response.status_code == 200 and response.json()["outcome"] == "stored_raw", response.text
    stored = await runtime.store.zalo_events.find_one({"company_id": company.id, "timestamp": timestamp})
    assert stored is not None and stored["raw"] == json.dumps(payload, ensure_ascii=False)


@pytest.mark.parametrize("hostile", [{"bad\u0000key": 1}, {"text": "\ud800"}, {"n": 10**30}])
async def test_a_signed_zalo_event_bson_cannot_hold_is_kept_with_its_bytes(
    company: Company, oa: Oa, runtime: Runtime, hostile: dict
) -> None:
    payload = oa.user_message(zalo_id())
    payload["message"].update(hostile)
    raw = json.dumps(payload).encode()  # ASCII escapes, as a sender would write a lone surrogate
    headers = {
        "Content-Type": "application/json",
        "X-ZEvent-Signature": sign(oa.app_id, raw, payload["timestamp"], oa.oa_secret_key),
    }
    response = await company.http.post(f"{company.url}/webhooks/zalo", content=raw, headers=headers)
    assert response.status_code == 200 and response.json()["outcome"] == "stored_raw", response.text
    stored = await runtime.store.zalo_events.find_one({"company_id": company.id, "timestamp": payload["timestamp"]})
    assert stored is not None and (stored.get("raw_bytes") or stored["raw"].encode()) == raw


# -- 5. a filter too long is the caller's mistake, not an outage -------------------------------------


async def test_a_long_text_filter_is_422_not_503(company: Company) -> None:
    for text in ("x" * 5000, "." * 600):
        response = await company.http.get(
            f"{company.url}/api/threads", headers=company.owner.auth, params={"text": text}
        )
        assert response.status_code == 422 and _error(response)["code"] == "text_too_long"
    ok = await company.http.get(f"{company.url}/api/threads", headers=company.owner.auth, params={"text": "." * 150})
    assert ok.status_code == 200


# -- 6. time zones are names from the zone database -------------------------------------------------


@pytest.mark.parametrize("zone", ["America", "Asia", "../../etc/passwd", "Not/AZone"])
async def test_an_unknown_time_zone_is_422(company: Company, zone: str) -> None:
    response = await company.http.patch(
        f"{company.url}/api/company", headers=company.owner.auth, json={"timezone": zone}
    )
    assert response.status_code == 422 and _error(response)["code"] == "invalid_timezone"
    assert (await company.http.get(f"{company.url}/api/company", headers=company.owner.auth)).json()[
        "timezone"
    ] == "Asia/Ho_Chi_Minh"


# -- 7. another company's ids are unknown here ----------------------------------------------------------


async def test_deleting_another_companys_ids_is_404(
    company: Company, runtime: Runtime, hub: HubProcess, oa: Oa
) -> None:
    other = await make_company(runtime, hub.url, company.http)
    token = await other.http.post(f"{other.url}/api/wallboard-tokens", headers=other.owner.auth, json={"name": "TV"})
    assert token.status_code == 201
    label = await other.http.post(f"{other.url}/api/labels", headers=other.owner.auth, json={"name": "theirs"})
    response = await company.http.delete(
        f"{company.url}/api/wallboard-tokens/{token.json()['id']}", headers=company.owner.auth
    )
    assert response.status_code == 404
    assert (await other.http.get(f"{other.url}/api/wallboard-tokens", headers=other.owner.auth)).json()
    user_id = zalo_id()
    assert (await oa.deliver(company.http, company.url, oa.user_message(user_id))).status_code == 200
    thread = (await company.http.get(f"{company.url}/api/threads", headers=company.owner.auth)).json()["threads"][0]
    response = await company.http.delete(
        f"{company.url}/api/threads/{thread['id']}/labels/{label.json()['id']}", headers=company.owner.auth
    )
    assert response.status_code == 404


# -- property: generated hostile requests at every route ---------------------------------------------

# Collections a refused request must leave as they were (login_failures counts wrong passwords on purpose).
WATCHED = (
    "companies",
    "accounts",
    "members",
    "departments",
    "extensions",
    "hotlines",
    "oa_links",
    "threads",
    "messages",
    "labels",
    "calls",
    "call_events",
    "zalo_events",
    "consents",
    "zns_messages",
    "wallboard_tokens",
    "events",
    "requests",
)

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "$where",
            '{"$gt": ""}',
            ".*",
            "\u0000",
            "a" * 3000,
            "../../",
            "<script>alert(1)</script>",
            "Asia/Ho_Chi_Minh",
            "0912345678",
        ]
    ),
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from(["$gt", "$ne", "name", "member_id", "phone", "role", "text", "label_id", "timezone"]),
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
raw_body = st.one_of(
    json_value.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=3000).map(_deep),
    st.just(b'{"a": ' * 50 + b"1" + b"}" * 50),
)
path_value = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
    st.sampled_from(["6b0c2c5e80cf47b4d14ac99e", "%2e%2e", "null", "' or 1=1", '{"$ne":1}']),
)
query = st.dictionaries(
    st.sampled_from(
        [
            "limit",
            "text",
            "from",
            "to",
            "before",
            "after",
            "status",
            "unread",
            "assignee",
            "label",
            "oa",
            "direction",
            "extension",
            "hotline",
            "phone",
        ]
    ),
    st.one_of(
        st.text(max_size=50), st.sampled_from(["-1", "1e400", "99999999999999999999", "true", "2026-13-45T99:99:99Z"])
    ),
    max_size=4,
)
auth = st.sampled_from(["owner", "none", "garbage", "wallboard"])
header_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=80)  # what HTTP carries


@pytest.fixture
def targets(company: Company, oa: Oa) -> dict[str, Any]:
    document = httpx.get(f"{company.url}/api/openapi.json", timeout=10).json()
    routes = [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]
    tokens = {"owner": company.owner.auth, "none": {}, "garbage": {"Authorization": "Bearer " + "x" * 300}}
    issued = httpx.post(
        f"{company.url}/api/wallboard-tokens", headers=company.owner.auth, json={"name": "TV"}, timeout=10
    )
    tokens["wallboard"] = {"Authorization": "Bearer " + issued.json()["token"]}
    return {"routes": routes, "tokens": tokens, "company": company, "oa": oa}


def _counts(runtime_db: Any) -> dict[str, int]:
    return {name: runtime_db[name].count_documents({}) for name in WATCHED}


@pytest.fixture
def sync_db(mongo_uri: str) -> Any:
    from pymongo import MongoClient

    client: MongoClient = MongoClient(mongo_uri)
    yield client["hub_single"]
    client.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.data(), body=raw_body, params=query, who=auth, path=path_value)
def test_no_hostile_request_breaks_the_api(
    targets: dict[str, Any], sync_db: Any, route: Any, body: bytes, params: dict[str, str], who: str, path: str
) -> None:
    method, template = route.draw(st.sampled_from(targets["routes"]))
    url = targets["company"].url + re.sub(r"\{[^}]+\}", lambda _: quote(path, safe=""), template)
    before = _counts(sync_db)
    try:
        response = httpx.request(
            method,
            url,
            headers={**targets["tokens"][who], "Content-Type": "application/json"},
            params=params,
            content=body if method != "GET" else None,
            timeout=10,
        )
    except (httpx.InvalidURL, httpx.LocalProtocolError):
        return  # not a request a client can send
    assert response.status_code < 500, (method, url, response.status_code, response.text[:300])
    if response.status_code >= 400:
        _error(response)
        assert _counts(sync_db) == before, f"{method} {template} was refused but stored something"


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=raw_body,
    signature=st.one_of(st.none(), header_text, st.just("mac=" + "0" * 64)),
    fmt=st.sampled_from(["canonical", "etelecom", "twilio", "x"]),
    pbx_header=st.one_of(st.none(), header_text, st.just(f"t={int(time.time())},v1=" + "0" * 64)),
)
def test_no_hostile_webhook_breaks_the_hub(
    targets: dict[str, Any], sync_db: Any, body: bytes, signature: str | None, fmt: str, pbx_header: str | None
) -> None:
    company = targets["company"]
    before = _counts(sync_db)
    headers = {"X-ZEvent-Signature": signature} if signature is not None else {}
    zalo = httpx.post(f"{company.url}/webhooks/zalo", content=body, headers=headers, timeout=10)
    headers = {"X-Hub-Signature": pbx_header} if pbx_header is not None else {}
    pbx = httpx.post(
        f"{company.url}/webhooks/pbx/{company.code}", params={"format": fmt}, content=body, headers=headers, timeout=10
    )
    for response in (zalo, pbx):
        assert 400 <= response.status_code < 500, response.text[:300]  # nothing here is signed
        _error(response)
    assert _counts(sync_db) == before
