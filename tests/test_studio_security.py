"""A studio only its user can drive (issue 20 item 2; docs/studio.md, "Security").

Against a real server: a foreign Host, a foreign Origin, a missing or wrong token are refused on
HTTP and on the WebSocket; paths outside the root (``..``, ``~``, absolute, a symbolic link) are
refused with one wording whether or not they exist; malformed messages get an error reply and
the session goes on, with no traceback. Against the message handler itself: a hostile corpus of
studio messages, each with the reply it must get, and a hypothesis stream of malformed messages
(5,000 examples; ``HYOSAN_FUZZ_SCALE`` multiplies it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import json
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyosan.studio.server import MAX_MESSAGE, Guard, allowed_hosts, handle, parse_message
from hyosan.studio.session import Session, choices_for
from studio_launch import launch

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_outbreak.toml"
SCALE = int(os.environ.get("HYOSAN_FUZZ_SCALE", "1"))


# -- a real server -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """The studio's root: a copy of the test data, a folder beside it outside the root, and a link
    from inside the root to that outside folder."""
    base = tmp_path_factory.mktemp("studio-root")
    inside = base / "root"
    inside.mkdir()
    for p in DATA.iterdir():
        if p.is_file():
            shutil.copy(p, inside / p.name)
    outside = base / "elsewhere"
    (outside / "run").mkdir(parents=True)
    (outside / "secret.txt").write_text("secret\n", encoding="utf-8")
    shutil.copy(DATA / "small_school.txt", outside / "map.txt")
    (inside / "link").symlink_to(outside, target_is_directory=True)
    (inside / "maplink.txt").symlink_to(outside / "map.txt")
    return inside


@pytest.fixture(scope="module")
def studio(root):
    with launch(str(TINY), "--root", str(root), "--out", str(root / "out")) as running:
        yield running


def request(studio, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", studio.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def ws_handshake(studio, path: str, headers: dict[str, str]) -> int:
    """The status of a WebSocket upgrade request (101 accepted; 403 refused)."""
    base = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    return request(studio, path, {**base, **headers})[0]


def test_http_needs_its_host_its_origin_and_the_token(studio):
    host = f"127.0.0.1:{studio.port}"
    good = f"/status?token={studio.token}"
    assert request(studio, good, {"Host": host})[0] == 200
    assert request(studio, good, {"Host": f"localhost:{studio.port}"})[0] == 200
    # DNS rebinding: the attacker's name in Host, with or without the right port
    for foreign in (f"evil.example:{studio.port}", "evil.example", f"127.0.0.1:{studio.port + 1}", ""):
        status, _, body = request(studio, good, {"Host": foreign})
        assert status == 403 and "Host refused" in body, foreign
    status, _, body = request(studio, good, {"Host": host, "Origin": "http://evil.example"})
    assert status == 403 and "Origin refused" in body
    assert request(studio, good, {"Host": host, "Origin": f"http://{host}"})[0] == 200
    # no token, a wrong one, one of the same length, one cut short: refused, on every path
    wrong = "x" * len(studio.token)
    for path in ("/", "/status", "/ws", "/?token=", f"/?token={wrong}", f"/status?token={studio.token[:-1]}"):
        status, _, body = request(studio, path, {"Host": host})
        assert status == 403 and "token" in body, path
    assert request(studio, "/", {"Host": host, "Cookie": f"hyosan-studio-{studio.port}={wrong}"})[0] == 403


def test_the_printed_address_sets_a_cookie_and_leaves_the_token_out_of_the_address_bar(studio):
    host = f"127.0.0.1:{studio.port}"
    assert studio.lines[0].startswith(f"hyosan studio at http://127.0.0.1:{studio.port}/?token=")
    status, headers, _ = request(studio, f"/?token={studio.token}&target=tiny-outbreak", {"Host": host})
    assert status == 303 and headers["location"] == "/?target=tiny-outbreak"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"hyosan-studio-{studio.port}={studio.token};")
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    status, _, page = request(
        studio, "/?target=tiny-outbreak", {"Host": host, "Cookie": cookie.split(";")[0]}
    )
    assert status == 200 and "hyosan studio" in page


def test_websocket_needs_its_host_its_origin_and_the_token(studio):
    host = f"127.0.0.1:{studio.port}"
    token = f"/ws?token={studio.token}"
    assert ws_handshake(studio, token, {"Host": host, "Origin": f"http://{host}"}) == 101
    assert (
        ws_handshake(studio, "/ws", {"Host": host, "Cookie": f"hyosan-studio-{studio.port}={studio.token}"})
        == 101
    )
    assert ws_handshake(studio, token, {"Host": f"evil.example:{studio.port}"}) == 403
    assert ws_handshake(studio, token, {"Host": host, "Origin": "http://evil.example"}) == 403
    assert ws_handshake(studio, token, {"Host": host, "Origin": f"http://localhost:{studio.port}"}) == 403
    assert ws_handshake(studio, "/ws", {"Host": host}) == 403
    assert ws_handshake(studio, "/ws?token=" + "A" * len(studio.token), {"Host": host}) == 403


def test_hosts_allowed_by_the_bound_address():
    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765"}
    assert allowed_hosts("::1", 80) == {"[::1]:80", "localhost:80", "127.0.0.1:80"}
    guard = Guard(None, "t", "0.0.0.0", 8765)  # every address: literal IPs too, never a foreign name
    assert guard.host_ok("192.168.1.20:8765") and guard.host_ok("[fe80::1]:8765")
    assert not guard.host_ok("evil.example:8765") and not guard.host_ok("evil.example")
    assert not Guard(None, "t", "127.0.0.1", 8765).host_ok("192.168.1.20:8765")


class Client:
    """A real WebSocket to the studio, reading replies up to the ``done`` or ``error`` of each command."""

    def __init__(self, studio):
        from websockets.sync.client import connect

        self.ws = connect(f"ws://127.0.0.1:{studio.port}/ws?token={studio.token}", max_size=None)
        assert self.recv()["type"] == "choices"

    def recv(self) -> dict:
        return json.loads(self.ws.recv(timeout=120))

    def send(self, raw: str | bytes) -> list[dict]:
        self.ws.send(raw)
        replies = []
        while True:
            reply = self.recv()
            replies.append(reply)
            if reply["type"] in ("done", "error"):
                return replies

    def close(self) -> None:
        self.ws.close()


def test_malformed_messages_over_a_real_websocket_are_answered_and_the_session_goes_on(studio):
    client = Client(studio)
    try:
        assert client.send(json.dumps({"op": "load", "target": "tiny-outbreak"}))[-1] == {
            "type": "done",
            "op": "load",
        }
        bad = [
            "not json",
            "[1]",
            "null",
            '{"op": "run", "ticks": Infinity}',
            '{"op": "run", "ticks": 1e400}',
            '{"op": "run", "ticks": NaN}',
            json.dumps({"op": "open", "folder": "a" * (1 << 20)}),
            b"\x00\x01binary",
            json.dumps({"op": "set", "key": ["zombies"], "value": 1}),
            json.dumps({"op": "launch-missiles"}),
        ]
        for raw in bad:
            replies = client.send(raw)
            assert [r["type"] for r in replies] == ["error"], raw[:40]
            assert "\n" not in replies[0]["message"]
        # the session still works: a step moves the clock
        replies = client.send(json.dumps({"op": "step", "ticks": 5}))
        assert [r["type"] for r in replies] == ["frame", "done"] and replies[0]["tick"] == 5
    finally:
        client.close()
    assert studio.proc.poll() is None
    assert studio.status()["sessions"] in (0, 1)


def test_paths_outside_the_root_are_refused_with_one_wording(studio, root):
    client = Client(studio)
    try:
        client.send(json.dumps({"op": "load", "target": "tiny-outbreak"}))
        outside = root.parent / "elsewhere"
        words = set()
        for folder in (
            "..",
            "../elsewhere/run",
            "../no-such-folder",
            "~",
            "~/run",
            str(outside / "run"),
            "/etc",
            "/no/such/folder",
            "link/run",
            "link",
            str(root / "link" / "run"),
            "",
        ):
            replies = client.send(json.dumps({"op": "open", "folder": folder}))
            assert [r["type"] for r in replies] == ["error"], folder
            words.add(replies[0]["message"])
        assert len(words) == 1, words  # the same message, existing or not
        assert "under the studio's root folder" in words.pop()
        # a map outside the root (absolute, relative, linked) is refused at once; nothing changes
        for value in ("/any/path", str(outside / "map.txt"), "../elsewhere/map.txt", "maplink.txt"):
            replies = client.send(json.dumps({"op": "set", "key": "world.map", "value": value}))
            assert [r["type"] for r in replies] == ["error"], value
            assert replies[0]["message"].startswith("map: must be under the studio's root folder")
        # a map under the root is taken; the session then resets and steps as usual
        replies = client.send(json.dumps({"op": "set", "key": "world.map", "value": "small_school.tmj"}))
        assert [r["type"] for r in replies][:2] == ["accepted", "world"]
        assert client.send(json.dumps({"op": "reset"}))[-1]["type"] == "done"
        assert client.send(json.dumps({"op": "step", "ticks": 3}))[0]["tick"] == 3
    finally:
        client.close()
    assert "Traceback" not in "".join(studio.lines)


def test_the_studio_module_imports_no_engine():
    """The light half prints and serves at once: it loads no engine, models or reports."""
    import subprocess
    import sys

    code = (
        "import sys, hyosan.studio.server as s; "
        "print(sorted(m for m in ('hyosan.engine', 'hyosan.models', 'hyosan.report', 'numba', 'scipy') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


# -- the message handler, driven directly -----------------------------------------------------------------
class FakeSocket:
    def __init__(self):
        self.sent: list[dict] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))


@pytest.fixture(scope="module")
def choices():
    return choices_for([str(TINY)])


def run_coroutine(coro) -> None:
    """Run *coro* to its end on a thread of its own.

    A browser test earlier in the same pytest worker leaves Playwright's event loop
    marked as running on the main thread, where ``asyncio.run`` refuses to start.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def session_for(choices, root: Path, target: str | None = None) -> Session:
    session = Session(FakeSocket(), root / "out", choices, root)
    if target:
        run_coroutine(session.load_target(target))
        session.socket.sent.clear()
    return session


def answer(session: Session, raw) -> list[dict]:
    session.socket.sent.clear()

    async def go():
        await handle(session, raw)
        await session.stop()

    run_coroutine(go())
    return list(session.socket.sent)


#: The hostile corpus of studio messages: (message, words its one error reply must hold).
CORPUS = [
    ("{", "not a JSON message"),
    ("", "not a JSON message"),
    ("[1]", "a JSON object was expected, not list"),
    ("null", "a JSON object was expected, not NoneType"),
    ('"load"', "a JSON object was expected, not str"),
    ("Infinity", "Infinity is not a number the studio accepts"),
    ('{"op": "run", "ticks": -Infinity}', "-Infinity is not a number the studio accepts"),
    ('{"op": "run", "ticks": 1e400}', "too large a number"),
    ('{"op": "run", "ticks": 1' + "0" * 5000 + "}", "not a JSON message"),
    ('{"op": "run", "ticks": 0}', "ticks: must be between 1 and 3600, got 0"),
    ('{"op": "run", "ticks": true}', "ticks: must be a whole number, got bool"),
    ('{"op": "run", "ticks": 2.5}', "ticks: must be a whole number, got float"),
    ('{"op": "step", "ticks": "10"}', "ticks: must be a whole number, got str"),
    ("[" * 100_000 + "]" * 100_000, "message too long"),
    ('{"op": "' + "[" * 50_000 + '"}', "unknown command"),
    (json.dumps({"op": "open", "folder": "/" + "a" * (1 << 20)}), "message too long"),
    (json.dumps({"op": "open", "folder": "a" * 5000}), "folder: too long (5000 characters; at most 4096)"),
    (json.dumps({"op": "open"}), "open needs 'folder'"),
    (json.dumps({"op": "exec", "code": "import os"}), "unknown command 'exec'"),
    (json.dumps({"op": None}), "unknown command none"),
    (json.dumps({"target": "tiny-outbreak"}), "unknown command none"),
    (json.dumps({"op": "load", "target": "tiny-outbreak", "eval": "1"}), "load takes no field 'eval'"),
    (json.dumps({"op": "load", "target": {"$ne": 1}}), "target: must be text, got dict"),
    (
        json.dumps({"op": "load", "target": "../../etc/passwd"}),
        "no scenario or model called '../../etc/passwd'",
    ),
    (
        json.dumps({"op": "set", "key": "world.map", "value": "/etc/passwd"}),
        "map: must be under the studio's root",
    ),
    (json.dumps({"op": "set", "key": "behaviour.zombie_step", "value": "os:system"}), "no value"),
    (json.dumps({"op": "set", "key": "zombies.bite_prob", "value": "nan"}), "must be a finite number"),
    (json.dumps({"op": "set", "key": "zombies.bite_prob", "value": "1e400"}), "must be a finite number"),
    (
        json.dumps({"op": "set", "key": "zombies.bite_prob", "value": 3}),
        "bite prob (zombies): must be at least 0",
    ),
    (json.dumps({"op": "set", "key": "population.0.count", "value": 2.5}), "must be a whole number"),
    (json.dumps({"op": "set", "key": "seed", "value": -1}), "seed: must be at least 0"),
    (json.dumps({"op": "set", "key": "clock.duration", "value": "forever"}), "duration"),
    (json.dumps({"op": "set", "key": "events.0.at", "value": "25:99"}), "patient zero"),
    (json.dumps({"op": "set", "key": "behaviour.humans", "value": "panic"}), "choose one of flee, wander"),
    (json.dumps({"op": "inspect", "agent": 10**6}), "no agent 1000000"),
    (json.dumps({"op": "inspect", "agent": -1}), "no agent -1"),
    (json.dumps({"op": "inspect", "agent": 2**70}), "agent: too large a number"),
    (json.dumps({"op": "open", "folder": "/proc/self"}), "a run folder must be under the studio's root"),
]


@pytest.mark.parametrize(("raw", "words"), CORPUS, ids=[f"{k:02d}" for k in range(len(CORPUS))])
def test_hostile_studio_messages(raw, words, choices, tmp_path):
    session = session_for(choices, tmp_path, "tiny-outbreak")
    before = (dict(session.overrides), session.seed, session.sim.tick)
    replies = answer(session, raw)
    assert [r["type"] for r in replies] == ["error"]
    message = replies[0]["message"]
    assert words in message, message
    assert "\n" not in message and "Traceback" not in message
    assert (dict(session.overrides), session.seed, session.sim.tick) == before  # nothing changed
    assert answer(session, json.dumps({"op": "step", "ticks": 2}))[0]["tick"] == 2  # and it goes on


def test_a_value_is_checked_before_it_is_accepted(choices, tmp_path):
    session = session_for(choices, tmp_path, "tiny-outbreak")
    replies = answer(session, json.dumps({"op": "set", "key": "world.map", "value": "/any/path"}))
    assert [r["type"] for r in replies] == ["error"]
    assert session.overrides == {}
    assert answer(session, json.dumps({"op": "reset"}))[-1] == {"type": "done", "op": "reset"}
    # a good value: accepted, and the run rebuilt with it
    replies = answer(session, json.dumps({"op": "set", "key": "population.0.count", "value": 5}))
    assert [r["type"] for r in replies] == ["accepted", "world", "frame", "done"]
    assert replies[2]["counts"]["human"] == 5 + 3


# -- hypothesis: a stream of malformed (and a few well-formed) messages -------------------------------
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        ["tiny-outbreak", "model:alemi", "..", "~", "/etc", "zombies.bite_prob", "world.map", "seed"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
ops = st.sampled_from(
    ["load", "set", "run", "step", "pause", "reset", "save", "open", "inspect", "", "x", "OPEN"]
)
fields = st.sampled_from(["target", "key", "value", "ticks", "folder", "agent", "op", "extra"])
commands = st.builds(
    lambda op, extra: {"op": op, **extra}, ops, st.dictionaries(fields, values, max_size=3)
).map(json.dumps)
raw_text = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=30),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "[1]", "null", "{}", '{"op":', "[" * 3000]),
    values.map(json.dumps),
)
messages = st.one_of(commands, raw_text)


def check_replies(raw, replies) -> None:
    types = [r["type"] for r in replies]
    assert "done" in types or "error" in types, (raw, types)  # every message is answered
    for reply in replies:
        if reply["type"] == "error":
            assert "\n" not in reply["message"] and "Traceback" not in reply["message"]
    try:
        parse_message(raw)
    except Exception:
        assert [r["type"] for r in replies] == ["error"]  # refused: one error reply, nothing done


@settings(
    max_examples=5000 * SCALE, deadline=None, derandomize=SCALE == 1, suppress_health_check=list(HealthCheck)
)
@given(raw=messages)
def test_hypothesis_malformed_messages_are_answered(raw, choices, tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "fuzz-root"
    root.mkdir(exist_ok=True)
    session = session_for(choices, root)
    check_replies(raw, answer(session, raw))


@settings(
    max_examples=300 * SCALE, deadline=None, derandomize=SCALE == 1, suppress_health_check=list(HealthCheck)
)
@given(stream=st.lists(messages, min_size=1, max_size=6))
def test_hypothesis_streams_to_a_loaded_model(stream, choices, tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "fuzz-model"
    root.mkdir(exist_ok=True)
    session = session_for(choices, root, "model:alemi")
    for raw in stream:
        check_replies(raw, answer(session, raw))


def test_parse_message_takes_only_declared_fields():
    assert parse_message('{"op": "run", "ticks": 30}') == ("run", {"ticks": 30})
    assert parse_message('{"op": "run", "ticks": 30.0}') == ("run", {"ticks": 30})
    assert parse_message('{"op": "inspect", "agent": null}') == ("inspect", {"agent": None})
    assert parse_message('{"op": "set", "key": "a", "value": 0.5}') == ("set", {"key": "a", "value": 0.5})
    assert len("x" * MAX_MESSAGE) == MAX_MESSAGE
