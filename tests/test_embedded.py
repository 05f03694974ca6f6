"""Zero configuration: the hub on its embedded MongoDB-compatible server, and the CLI beside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from hub import embedded
from tests.servers import HubProcess, free_port, run_cli


def _bare_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HUB_") and k != "PORT"}


async def test_hub_with_no_settings_runs_on_its_embedded_server_and_the_cli_shares_it(tmp_path: Path) -> None:
    env = _bare_env()
    hub = HubProcess(port=free_port(), env=env, log=tmp_path / "hub.log", cwd=tmp_path).start(timeout=90)
    try:
        ready = httpx.get(hub.url + "/readyz").json()
        assert ready["ready"] is True and ready["mongodb"] == "ok"
        data_dir = tmp_path / ".hub-data"
        assert embedded.running_uri(data_dir), "the embedded server of ./.hub-data is up"

        # The CLI, run while the hub serves, uses the same embedded server (WiredTiger allows one process).
        made = run_cli(
            [
                "bootstrap",
                "--company-code",
                "zc",
                "--company-name",
                "Zero Config",
                "--owner-phone",
                "0901234567",
                "--owner-name",
                "Chủ",
            ],
            env,
            cwd=tmp_path,
        )
        assert made.returncode == 0, made.stderr
        created = json.loads(made.stdout)
        assert set(created) == {"company_id", "member_id", "password"} and created["password"]
        token = run_cli(["token", "--company-code", "zc", "--phone", "0901234567", "--ttl", "600"], env, cwd=tmp_path)
        assert token.returncode == 0, token.stderr
        members = httpx.get(hub.url + "/api/members", headers={"Authorization": f"Bearer {token.stdout.strip()}"})
        assert members.status_code == 200
        assert [m["id"] for m in members.json()["members"]] == [created["member_id"]]
        login = httpx.post(hub.url + "/api/auth/login", json={"phone": "0901234567", "password": created["password"]})
        assert login.status_code == 200 and login.json()["member"]["role"] == "owner"
    finally:
        assert hub.stop() == 0
    assert embedded.running_uri(tmp_path / ".hub-data") is None, "the embedded server stopped with the hub"


def test_cli_explains_what_to_set_when_mongodb_is_unreachable(tmp_path: Path) -> None:
    env = {
        **_bare_env(),
        "HUB_MONGODB_URI": f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=500",
        "HUB_MONGODB_TIMEOUT_MS": "500",
    }
    result = run_cli(["token", "--company-code", "x", "--phone", "1"], env, cwd=tmp_path)
    assert result.returncode == 2
    assert "HUB_MONGODB_URI" in result.stderr and "Traceback" not in result.stderr
