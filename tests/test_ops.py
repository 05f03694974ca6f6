"""What an operator and an integrator read: health, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

from tests.conftest import Company


async def test_health_readiness_and_metrics(company: Company) -> None:
    http, url = company.http, company.url
    health = (await http.get(f"{url}/healthz")).json()
    assert health["status"] == "ok" and isinstance(health["process"], int), "which process answered"
    ready = await http.get(f"{url}/readyz")
    assert ready.status_code == 200 and ready.json()["mongodb"] == "ok"
    console = await company.console(company.owner).connect()
    await company.add("user")
    await console.wait_for(lambda: len(console.stored()) == 1)
    text = (await http.get(f"{url}/metrics")).text
    assert 'hub_events_published_total{type="member.created"}' in text
    assert "hub_consoles_connected" in text
    assert 'hub_events_delivered_total{path="live"}' in text


async def test_openapi_document_lists_the_api(company: Company) -> None:
    doc = (await company.http.get(f"{company.url}/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert {"post"} <= set(doc["paths"]["/api/auth/login"])
    assert {"get", "post"} <= set(doc["paths"]["/api/members"])
    assert "MemberCreate" in doc["components"]["schemas"]


async def test_pair_readiness_includes_redis(hub_pair, http) -> None:
    ready = (await http.get(f"{hub_pair[0].url}/readyz")).json()
    assert ready == {"ready": True, "mongodb": "ok", "redis": "ok"}
