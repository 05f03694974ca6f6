"""Call recordings play in the console's history from the PBX's recording hosts (HUB_RECORDING_HOSTS) and
from no other: here a local audio file served by two small HTTP servers, one of them named in the setting."""

from __future__ import annotations

import threading
import wave
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import expect

from hub.runtime import Runtime
from tests.browser import screenshot_path
from tests.conftest import hub_of_its_own, make_company, runtime_of
from tests.pbx_payloads import Pbx, canonical
from tests.servers import HubProcess
from tests.web_steps import console_of


class RecordingHost:
    """A PBX's recording server: serves the files of a folder and remembers what was asked of it."""

    def __init__(self, folder: Path) -> None:
        self.asked: list[str] = []
        host = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                host.asked.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:  # quiet in the test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RecordingHost, RecordingHost]]:
    folder = tmp_path_factory.mktemp("recordings")
    with wave.open(str(folder / "call.wav"), "wb") as audio:  # one second of silence, 8 kHz mono
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 8000)
    pbx_host, other_host = RecordingHost(folder), RecordingHost(folder)
    yield pbx_host, other_host
    pbx_host.stop()
    other_host.stop()


@pytest.fixture(scope="module")
def recording_hub(
    workdir: Path, mongo_uri: str, recordings: tuple[RecordingHost, RecordingHost]
) -> Iterator[HubProcess]:
    with hub_of_its_own(workdir, mongo_uri, "hub_recordings", recording_hosts=recordings[0].origin) as process:
        yield process


@pytest_asyncio.fixture(scope="module")
async def recording_runtime(mongo_uri: str, recording_hub: HubProcess) -> AsyncIterator[Runtime]:
    async with runtime_of(mongo_uri, "hub_recordings") as rt:
        yield rt


# Resolves with the audio's duration once its metadata loaded, or -1 when the browser refused it.
_LOADED = """audio => new Promise(resolve => {
  audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
  audio.addEventListener("error", () => resolve(-1), { once: true });
  audio.load();
})"""


async def test_a_recording_plays_from_the_pbxs_host_and_not_from_another(
    recording_hub: HubProcess,
    recording_runtime: Runtime,
    recordings: tuple[RecordingHost, RecordingHost],
    http: httpx.AsyncClient,
    new_page,
    tmp_path: Path,
) -> None:
    pbx_host, other_host = recordings
    company = await make_company(recording_runtime, recording_hub.url, http)
    secret = (await http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    base = datetime.now(UTC) - timedelta(minutes=5)
    for call_id, origin in (("rec-pbx", pbx_host.origin), ("rec-other", other_host.origin)):
        events = canonical("answered", base=base, call_id=call_id)
        events[-1]["recording_url"] = f"{origin}/call.wav"
        for event in events:
            assert (await pbx.post(http, event)).status_code < 300

    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=calls]")
    played = page.locator('#call-history tr[data-call-id] audio[src$="call.wav"]')
    await expect(played).to_have_count(2)
    allowed = page.locator(f'#call-history audio[src="{pbx_host.origin}/call.wav"]')
    refused = page.locator(f'#call-history audio[src="{other_host.origin}/call.wav"]')
    assert await allowed.evaluate(_LOADED) == pytest.approx(1.0, abs=0.05)
    assert pbx_host.asked, "the browser fetched the recording from the PBX's host"
    assert await refused.evaluate(_LOADED) == -1
    assert other_host.asked == [], "the policy kept the browser from even asking another host"
    await expect(page.locator(f'#call-history a[href="{other_host.origin}/call.wav"]')).to_be_visible()
    await page.screenshot(path=screenshot_path("console-call-history.png", tmp_path))

    policy = (await http.get(f"{company.url}/console")).headers["content-security-policy"]
    media = next(d for d in policy.split("; ") if d.startswith("media-src"))
    assert media == f"media-src 'self' https://*.zdn.vn https://*.zadn.vn {pbx_host.origin}"
