"""A member's own alert preferences (browser notifications, sound): kept on their member document, read and
changed only by them, each field true or false."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Company

PATH = "/api/account/preferences"


async def test_preferences_start_with_sound_on_and_notifications_off_and_round_trip(company: Company) -> None:
    agent = await company.add("user")
    url = f"{company.url}{PATH}"
    response = await company.http.get(url, headers=agent.auth)
    assert response.status_code == 200
    assert response.json() == {"notify": False, "sound": True}

    response = await company.http.patch(url, headers=agent.auth, json={"notify": True})
    assert response.status_code == 200, response.text
    assert response.json() == {"notify": True, "sound": True}
    response = await company.http.patch(url, headers=agent.auth, json={"sound": False})
    assert response.json() == {"notify": True, "sound": False}, "only the field sent changes"
    assert (await company.http.get(url, headers=agent.auth)).json() == {"notify": True, "sound": False}
    assert (await company.http.patch(url, headers=agent.auth, json={})).json() == {"notify": True, "sound": False}

    # another member's preferences are their own
    assert (await company.http.get(url, headers=company.owner.auth)).json() == {"notify": False, "sound": True}


@pytest.mark.parametrize(
    "body",
    [{"notify": "yes"}, {"sound": 1}, {"notify": None, "volume": 3}, {"sound": "false"}, ["notify"], "on"],
)
async def test_a_preference_is_true_or_false_and_nothing_else(company: Company, body: object) -> None:
    response = await company.http.patch(f"{company.url}{PATH}", headers=company.owner.auth, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_body"
    assert (await company.http.get(f"{company.url}{PATH}", headers=company.owner.auth)).json() == {
        "notify": False,
        "sound": True,
    }


async def test_malformed_json_is_refused(company: Company) -> None:
    response = await company.http.patch(
        f"{company.url}{PATH}",
        headers={**company.owner.auth, "Content-Type": "application/json"},
        content=b'{"notify": tru',
    )
    assert response.status_code == 400


async def test_preferences_need_a_token(company: Company, http: httpx.AsyncClient) -> None:
    assert (await http.get(f"{company.url}{PATH}")).status_code == 401
    assert (await http.patch(f"{company.url}{PATH}", json={"notify": True})).status_code == 401
