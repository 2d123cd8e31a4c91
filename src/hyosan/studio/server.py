"""``hyosan studio``: a live local web app to build a scenario, run it and watch it respond.

Stack: Starlette (routes and a WebSocket) served by uvicorn, both small and well kept, in the
optional extra ``hyosan[studio]``. A WebSocket suits a live view: the page sends commands
(load, set, run, pause, step, reset, save, open, inspect) and the server pushes every update (the
agents' cells and states, the counts) as the simulation runs, with no polling. The page draws with
a canvas like the report's replay, and a finished run or an opened run folder is shown by the
replay itself (``replay.js``).

This module is the light half: the guard, the message parser and the app. It imports neither
the engine nor the models, so the command prints its address and serves the page at once; the
heavy half (:mod:`hyosan.studio.session`, which builds and runs simulations) is imported in a
thread as the server starts, and each WebSocket waits for it.

Who may drive it (docs/studio.md, "Security"): every HTTP and WebSocket request must name this
server in its ``Host`` (the bound address or ``localhost``, with the port), come from no other
``Origin`` than the studio's own page, and carry the per-launch secret token (in the URL that the
command prints, or the cookie that URL sets), compared in constant time. Run folders and maps are
read only from under the root (the working folder or ``--root``). Every message is parsed field
by declared field before anything acts on it; a malformed one gets an error reply and the session
goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib
import ipaddress
import json
import math
import secrets
import sys
import threading
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from hyosan.errors import HyosanError
from hyosan.palette import palette

#: The longest message the studio reads (a longer one is answered with an error, unread).
MAX_MESSAGE = 64 * 1024
#: The longest text field (a scenario name, a value, a folder).
MAX_TEXT = 4096
#: The largest WebSocket frame uvicorn accepts: above MAX_MESSAGE, so that a long message still
#: reaches the parser and gets its error reply instead of a dropped connection.
WS_MAX_SIZE = 4 * 1024 * 1024
#: Ticks one run or step update may advance.
MAX_TICKS = 3600
#: The query parameter that carries the token.
TOKEN_PARAM = "token"
#: Loopback names a browser on this machine uses.
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# What each command may carry: field -> (accepted types, required). Nothing else is accepted.
_TEXT = (str,)
_INT = (int,)
_VALUE = (str, int, float, bool)
OPS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "load": {"target": (_TEXT, True)},
    "set": {"key": (_TEXT, True), "value": (_VALUE, True)},
    "run": {"ticks": (_INT, False)},
    "step": {"ticks": (_INT, False)},
    "pause": {},
    "reset": {},
    "save": {},
    "open": {"folder": (_TEXT, True)},
    "inspect": {"agent": ((*_INT, type(None)), True)},
}
_TYPE_WORDS = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


class MessageError(HyosanError):
    """A message the studio cannot act on (its reply names what was wrong)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, source="message", field=field)


def _constant(name: str) -> None:
    raise MessageError(f"{name} is not a number the studio accepts")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MessageError(f"{text[:20]} is too large a number")
    return value


def parse_message(text: str | bytes | None) -> tuple[str, dict[str, Any]]:
    """A message's command and fields, checked against :data:`OPS`; anything else is refused.

    The message must be UTF-8 JSON text of at most :data:`MAX_MESSAGE` bytes holding one object
    with a known ``op`` and only the fields that command takes, each of its declared type (a
    finite number, text of at most :data:`MAX_TEXT` characters). ``NaN``, ``Infinity`` and numbers
    that overflow (``1e400``) are refused.
    """
    if not isinstance(text, str):
        raise MessageError("messages are JSON text, not binary")
    if len(text) > MAX_MESSAGE:
        raise MessageError(f"message too long ({len(text)} characters; at most {MAX_MESSAGE})")
    try:
        message = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except MessageError:
        raise
    except (ValueError, RecursionError):
        raise MessageError("not a JSON message") from None
    if not isinstance(message, dict):
        raise MessageError(f"a JSON object was expected, not {type(message).__name__}")
    op = message.get("op")
    if not isinstance(op, str) or op not in OPS:
        shown = repr(op)[:40] if op is not None else "none"
        raise MessageError(f"unknown command {shown} (commands: {', '.join(OPS)})", field="op")
    fields = OPS[op]
    out: dict[str, Any] = {}
    for name, value in message.items():
        if name == "op":
            continue
        if name not in fields:
            raise MessageError(f"{op} takes no field {name[:40]!r}", field=name[:40])
        types = fields[name][0]
        # bool is an int to Python; a whole number given as 3.0 is still a whole number.
        if isinstance(value, bool) and bool not in types:
            ok = False
        elif isinstance(value, float) and int in types and float not in types:
            ok = value.is_integer() and abs(value) < 2**63
            value = int(value) if ok else value
        else:
            ok = isinstance(value, types)
        if not ok:
            wanted = " or ".join(_TYPE_WORDS[t] for t in types)
            raise MessageError(f"must be {wanted}, got {type(value).__name__}", field=name)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise MessageError(f"too long ({len(value)} characters; at most {MAX_TEXT})", field=name)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            raise MessageError("too large a number", field=name)
        out[name] = value
    missing = [name for name, (_, required) in fields.items() if required and name not in out]
    if missing:
        raise MessageError(f"{op} needs {missing[0]!r}", field=missing[0])
    if "ticks" in out and not 1 <= out["ticks"] <= MAX_TICKS:
        raise MessageError(f"must be between 1 and {MAX_TICKS}, got {out['ticks']}", field="ticks")
    return op, out


async def handle(session, text: str | bytes | None) -> None:
    """Parse one message and act on it; whatever it holds, the reply is sent and nothing escapes.

    ``session`` is a :class:`hyosan.studio.session.Session` (or anything with its ``dispatch``,
    ``error`` and ``send``). A refused message gets one ``error`` reply; a command done gets its
    replies and then ``{"type": "done", "op": ...}``.
    """
    op = None
    try:
        op, fields = parse_message(text)
        await session.dispatch(op, fields)
    except HyosanError as exc:
        await session.error(exc, op)
        return
    except (WebSocketDisconnect, asyncio.CancelledError):
        raise
    except Exception as exc:  # (nothing a client sends may end the session)
        print(f"hyosan studio: {op}: {type(exc).__name__}: {exc}", file=sys.stderr)
        await session.error(HyosanError(f"could not {op}: {type(exc).__name__}: {exc}"), op)
        return
    await session.send({"type": "done", "op": op})


# -- who may connect -----------------------------------------------------------------------------------
def allowed_hosts(host: str, port: int) -> set[str]:
    """``Host`` header values naming this server: the bound address and ``localhost``, with the port."""
    names = {host, "localhost"}
    if host in ("127.0.0.1", "localhost"):
        names.add("127.0.0.1")
    if host in ("::1", "::", "0.0.0.0"):
        names.add("127.0.0.1")
    out = set()
    for name in names:
        shown = f"[{name}]" if ":" in name else name
        out.add(f"{shown}:{port}".lower())
    return out


def _is_ip_literal(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Guard:
    """ASGI middleware in front of every route: Host, Origin and token, on HTTP and WebSocket alike.

    A request whose ``Host`` does not name this server (a DNS-rebinding page's would name the
    attacker's domain) or whose ``Origin`` is another site's is refused before any route runs; so
    is one without the token (``?token=`` or the cookie set from it). A page request with the
    token in its URL gets the cookie and is sent on to the same address without it, as Jupyter
    does, so the token does not stay in the address bar or the history.
    """

    def __init__(self, app, token: str, host: str, port: int):
        self.app = app
        self.token = token.encode()
        self.hosts = allowed_hosts(host, port)
        # Bound to every address: also any literal IP address (a rebinding attack needs a name).
        self.any_ip = host in ("0.0.0.0", "::")
        self.cookie = f"hyosan-studio-{port}"

    def host_ok(self, host: str) -> bool:
        host = host.lower()
        return host in self.hosts or (self.any_ip and _is_ip_literal(host))

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), self.token)

    def check(self, scope) -> tuple[str | None, bool]:
        """Why the request is refused (None: let it through), and whether the URL held the token."""
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not self.host_ok(host):
            return "this studio answers only to its own address (Host refused)", False
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"http://{host.lower()}":
            return "this studio answers only to its own page (Origin refused)", False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        in_url = query.get(TOKEN_PARAM, [None])[-1]
        if self.token_ok(in_url):
            return None, True
        if self.token_ok(HTTPConnection(scope).cookies.get(self.cookie)):
            return None, False
        return "this studio needs the address with its token that `hyosan studio` printed", False

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason, token_in_url = self.check(scope)
        if reason is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
            else:
                await PlainTextResponse(reason + "\n", status_code=403)(scope, receive, send)
            return
        if token_in_url and scope["type"] == "http" and scope["path"] == "/" and scope.get("method") == "GET":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            query.pop(TOKEN_PARAM, None)
            rest = urlencode(query, doseq=True)
            response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), status_code=303)
            response.set_cookie(self.cookie, self.token.decode(), httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def new_token() -> str:
    """A per-launch secret for the studio's address."""
    return secrets.token_urlsafe(32)


def studio_url(host: str, port: int, token: str) -> str:
    """The address to print and open (with the token)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/?{TOKEN_PARAM}={token}"


# -- the page -----------------------------------------------------------------------------------------
def page_html() -> str:
    """The studio page: its script, the replay's script and style, and the palette."""
    here = files("hyosan.studio")
    report = files("hyosan").joinpath("report")  # read as files: no import of the report package
    csp = (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'"
    )
    colours = json.dumps(palette(), sort_keys=True).replace("<", "\\u003c")
    return (
        here.joinpath("studio.html")
        .read_text(encoding="utf-8")
        .replace("/*REPLAY_CSS*/", report.joinpath("replay.css").read_text(encoding="utf-8"))
        .replace("/*STUDIO_JS*/", here.joinpath("studio.js").read_text(encoding="utf-8"))
        .replace("/*REPLAY_JS*/", report.joinpath("replay.js").read_text(encoding="utf-8"))
        .replace("/*PALETTE*/", colours)
        .replace("<!--CSP-->", csp)
    )


class Heavy:
    """The session module, imported once in a thread as the server starts."""

    def __init__(self) -> None:
        self.module = None
        self.error: BaseException | None = None
        self.event = threading.Event()

    def load(self) -> None:
        try:
            self.module = importlib.import_module("hyosan.studio.session")
        except BaseException as exc:  # (reported to each page that connects)
            self.error = exc
        finally:
            self.event.set()

    def start(self) -> None:
        threading.Thread(target=self.load, name="hyosan-studio-import", daemon=True).start()

    async def get(self):
        await asyncio.to_thread(self.event.wait)
        if self.error is not None:
            raise self.error
        return self.module


def create_app(
    paths: list[str],
    out: Path,
    *,
    token: str,
    host: str = "127.0.0.1",
    port: int = 8765,
    root: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> Guard:
    """The studio app behind its guard: the page at ``/``, a session per WebSocket at ``/ws``,
    ``/status`` (sessions and runs, for tests). ``root`` bounds the folders and maps a page may
    name (default: the working folder)."""
    root = Path(root if root is not None else Path.cwd()).resolve()
    heavy = Heavy()
    sessions: set[Any] = set()
    choices: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        heavy.start()
        if on_ready is not None:  # once uvicorn has bound the port, which follows this startup
            threading.Timer(0.5, on_ready).start()
        yield

    async def index(request):
        return HTMLResponse(page_html(), headers={"Cache-Control": "no-store"})

    async def status(request):
        return JSONResponse({"sessions": len(sessions), "running": sum(s.running for s in sessions)})

    async def ws(socket: WebSocket):
        await socket.accept()
        session = None
        try:
            try:
                module = await heavy.get()
                if not choices:
                    choices.update(module.choices_for(paths))
            except Exception as exc:  # (the page says so; the server stays up)
                await socket.send_text(
                    json.dumps({"type": "error", "message": f"the studio cannot start: {exc}"})
                )
                await socket.close()
                return
            session = module.Session(socket, out, choices, root)
            sessions.add(session)
            await session.send({"type": "choices", "choices": list(choices)})
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await handle(session, message.get("text", message.get("bytes")))
        except WebSocketDisconnect:
            pass
        finally:
            if session is not None:
                session.running = False  # the page is gone: its run stops
                sessions.discard(session)
                if session.task is not None:
                    session.task.cancel()

    app = Starlette(
        routes=[Route("/", index), Route("/status", status), WebSocketRoute("/ws", ws)], lifespan=lifespan
    )
    return Guard(app, token, host, port)


def serve(
    paths: list[str],
    out: Path,
    *,
    token: str,
    host: str = "127.0.0.1",
    port: int = 8765,
    root: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    app = create_app(paths, out, token=token, host=host, port=port, root=root, on_ready=on_ready)
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_max_size=WS_MAX_SIZE)
