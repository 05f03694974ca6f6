"""The bundled web console: its three pages, its own static files, and the npm-installed Socket.IO client
(with uqr for QR codes and Chart.js for the dashboard's charts).

The console is a plain client of the public contract (REST under /api, events over /socket.io): it
gets no private endpoint, so what it does any integrator can do. Pages and scripts live in
`hub/web/`; the official `socket.io-client` comes from the npm registry into `hub/web/node_modules`
(`npm ci --prefix hub/web`, which `make run` and `make test` do) and is served as-is, never copied
into the repository.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

WEB = Path(__file__).parent / "web"
SOCKET_IO_CLIENT = WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.esm.min.js"
# The QR code of a wallboard display's link, drawn in the page (uqr: one dependency-free ES module).
QR_ENCODER = WEB / "node_modules" / "uqr" / "dist" / "index.mjs"
# The dashboard's charts (Chart.js's UMD build: one file, no dependencies, loaded when the tab opens).
CHART_JS = WEB / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"


def content_security_policy(recording_hosts: tuple[str, ...], zalo_media: str = "") -> str:
    """Everything from the hub itself; pictures from anywhere (Zalo's avatars, images, stickers come from
    many hosts); sound and video only from Zalo's media hosts and the PBX's recording hosts
    (HUB_RECORDING_HOSTS), so a recording link to any other host does not play in the console."""
    media = " ".join(("'self'", *zalo_media.split(), *recording_hosts))
    return (
        f"default-src 'self'; img-src 'self' data: https: http:; media-src {media}; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _page(name: str, headers: dict[str, str]) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        return FileResponse(WEB / "pages" / name, media_type="text/html; charset=utf-8", headers=headers)

    serve.__name__ = f"page_{name.removesuffix('.html')}"
    return serve


def _installed(path: Path) -> bool:
    return path.is_file()  # one stat, as cheap as serving it


def _vendor(path: Path) -> Callable[[Request], Awaitable[Response]]:
    """A file npm installed into hub/web/node_modules, or a 503 that says how to install it."""

    async def serve(request: Request) -> Response:
        if not _installed(path):
            return PlainTextResponse(
                f"The web console's {path.parent.parent.name} is not installed. Run `npm ci --prefix hub/web` "
                "(make run does it), then reload.\n",
                status_code=503,
            )
        return FileResponse(path, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})

    serve.__name__ = f"vendor_{path.parent.parent.name.replace('-', '_').replace('.', '_')}"
    return serve


socket_io_client = _vendor(SOCKET_IO_CLIENT)
qr_encoder = _vendor(QR_ENCODER)
chart_js = _vendor(CHART_JS)


def routes(recording_hosts: tuple[str, ...], zalo_media: str = "") -> list[BaseRoute]:
    """The pages, sent with the Content-Security-Policy; scripts and styles go compressed (the Socket.IO
    client: 41 KB -> 13 KB); pages are small."""
    headers = {
        "Content-Security-Policy": content_security_policy(recording_hosts, zalo_media),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    return [
        Route("/", _page("login.html", headers), methods=["GET"]),
        Route("/console", _page("console.html", headers), methods=["GET"]),
        Route("/wallboard", _page("wallboard.html", headers), methods=["GET"]),
        Mount(
            "/vendor",
            GZipMiddleware(
                Router(
                    [
                        Route("/socket.io.esm.min.js", socket_io_client, methods=["GET"]),
                        Route("/uqr.mjs", qr_encoder, methods=["GET"]),
                        Route("/chart.umd.min.js", chart_js, methods=["GET"]),
                    ]
                )
            ),
        ),
        Mount("/static", GZipMiddleware(StaticFiles(directory=WEB / "static")), name="static"),
    ]
