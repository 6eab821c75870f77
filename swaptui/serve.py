"""`swaptui serve`: the app in a browser, through textual-serve (the optional `serve` extra).

textual-serve runs a command per browser tab, with Textual's web driver speaking over the command's
standard input and output, and relays that to xterm.js in the page. The command is this Python running
`-m swaptui FILE ...` with the options `swaptui serve` was given, so it works from a wheel as from a checkout.
The listening socket is opened here, before the server starts, so a port in use is one clear line.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from typing import Any


class ServeError(Exception):
    """The server cannot listen where it was asked: one line, for `swaptui: ...`."""


def listen(host: str, port: int) -> socket.socket:
    """Open the listening TCP socket on host:port, or raise ServeError saying why not (in use, no such host)."""
    if not 1 <= port <= 65535:
        raise ServeError(f"--port: expected a port from 1 to 65535; got {port}")
    try:
        return socket.create_server((host, port))
    except socket.gaierror as error:
        raise ServeError(f"--host: no such address here: {host} ({error.strerror})") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ServeError(f"--port: {host}:{port} is in use; pick another port with --port N") from None
        raise ServeError(f"--host/--port: cannot listen on {host}:{port}: {error.strerror}") from None


def url_of(sock: socket.socket) -> str:
    """The address to open in a browser for a listening socket."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):  # every interface: this machine's own browser still reaches it by name
        host = "localhost"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(command: str, sock: socket.socket, title: str, started: Callable[[str], None]) -> None:
    """Serve `command` to browsers on the listening socket until SIGINT or SIGTERM; `started(url)` is called
    once the server accepts connections."""
    import asyncio

    import aiohttp_jinja2
    from aiohttp import web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, to_int

    pages: set[web.WebSocketResponse] = set()  # the open pages' connections

    class ServedApp(AppService):
        """One page's app process, waited for when it stops: the server's loop then closes with no process
        left half-watched (which printed an asyncio traceback at ^C)."""

        async def stop(self) -> None:
            await super().stop()  # tells the app to quit and reads its output to the end
            process = self._process
            if process is not None and process.returncode is None:
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()

    class AppServer(Server):
        """textual-serve's server, quiet, on a socket opened beforehand, reachable by any of its names, and
        stopping every page's app before it exits."""

        def initialize_logging(self) -> None:
            """Warnings and errors only (an app that fails to start), as `swaptui: ...` lines."""
            logging.basicConfig(level=logging.WARNING, format="swaptui: serve: %(message)s")

        async def on_startup(self, app: web.Application) -> None:
            """No banner: `started` prints the one line once the socket accepts connections."""

        async def on_shutdown(self, app: web.Application) -> None:
            """Close every page: each handler then stops its app (rather than waiting to be cancelled)."""
            await asyncio.gather(*(page.close() for page in list(pages)))

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """A page's connection: its own app, started at the page's size, fed its keys, mouse and resizes,
            stopped when the page goes (as textual-serve's own handler, with ServedApp)."""
            websocket = web.WebSocketResponse(heartbeat=15)
            service: ServedApp | None = None

            async def close() -> None:
                await websocket.close()

            pages.add(websocket)
            try:
                await websocket.prepare(request)
                service = ServedApp(
                    self.command,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=close,
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                width = to_int(request.query.get("width", "80"), 80)
                height = to_int(request.query.get("height", "24"), 24)
                await service.start(width, height)
                await self._process_messages(websocket, service)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:  # one page's failure is logged; the server and the other pages go on
                logging.getLogger("swaptui.serve").error("a page's app failed: %s", error)
            finally:
                pages.discard(websocket)
                if service is not None:
                    await service.stop()
            return websocket

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            """The page, with the websocket and static URLs on the host the browser asked for (so a page
            opened from another machine with --host 0.0.0.0 talks back to this one, not its own localhost)."""
            origin = str(request.url.origin())
            router = request.app.router
            websocket = origin.replace("http", "ws", 1) + str(router["websocket"].url_for())
            static = origin + str(router["static"].url_for(filename="/")).rstrip("/") + "/"
            font_size = request.query.get("fontsize", "16")
            return {
                "font_size": int(font_size) if font_size.isdigit() else 16,
                "app_websocket_url": websocket,
                "config": {"static": {"url": static}},
                "application": {"name": self.title},
            }

        def serve(self, debug: bool = False) -> None:
            """Run until SIGINT or SIGTERM (textual-serve's own handlers end the loop without a traceback)."""
            import signal

            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.request_exit)
            url = url_of(sock)
            web.run_app(
                self._make_app(),
                sock=sock,
                handle_signals=False,
                loop=loop,
                shutdown_timeout=2.0,  # open tabs: their apps are told to quit; do not wait a minute for them
                access_log=None,
                print=lambda *_: started(url),
            )

    AppServer(command, title=title).serve()
