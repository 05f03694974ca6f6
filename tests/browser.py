"""A real browser for the web console tests: Debian's Chromium driven by Playwright (never Playwright's own
browser download), and a TCP hop between the browser and the hub whose network a test can cut."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from playwright.async_api import Browser, Page, Playwright, expect

# A reconnect waits up to the client's backoff (3 s, with jitter up to 4.5 s) before it tries again, and a
# loaded CI machine is slower still: assertions wait up to 15 s for what the page should show.
expect.set_options(timeout=15_000)

CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine's network is closed: without these Chromium keeps trying Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("HUB_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise RuntimeError(
            f"no Chromium at {path}: install Debian's package (`apt-get install chromium`, which "
            ".ci/run does) or point HUB_TEST_CHROMIUM at a Chromium binary"
        )
    return path


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)


def screenshot_path(name: str, fallback: Path) -> Path:
    """Screenshots for the README go to HUB_SCREENSHOTS_DIR (`make screenshots`); otherwise to the test's
    temporary directory, so a plain test run leaves the checkout clean but still takes them."""
    folder = Path(os.environ.get("HUB_SCREENSHOTS_DIR") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


async def log_in(page: Page, url: str, phone: str, password: str) -> None:
    """Through the login page, as a person would; waits until the console has synced its lists."""
    await page.goto(f"{url}/")
    await page.fill("#phone", phone)
    await page.fill("#password", password)
    await page.click("#login-submit")
    await page.wait_for_url("**/console")
    await page.locator("#banner").wait_for(state="hidden")


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the hub. `cut()` drops every connection and refuses new ones (as a
    dead Wi-Fi would) until `restore()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = False
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._links.discard(link)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.transport.abort()

    def cut(self) -> None:
        self.down = True
        for browser_side, hub_side in list(self._links):
            browser_side.transport.abort()
            hub_side.transport.abort()

    def restore(self) -> None:
        self.down = False

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
