"""The bad-input corpus: careless or hostile input across scenarios, both map formats, every
command's flags, damaged run folders and stores, and faults (docs/reliability.md).

Every case asserts: exit status 2, one line on stderr naming the file or the flag, no traceback,
nothing partial left, nothing else changed. Cases run the CLI in this process and fail before any
simulation runs (except the damaged-folder cases, which share one small saved run).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import run_cli

DATA = Path(__file__).parent / "data"
SCENARIO = (DATA / "tiny_outbreak.toml").read_text(encoding="utf-8")
TILED = json.loads((DATA / "small_school.tmj").read_text(encoding="utf-8"))


# -- the checks every case makes ------------------------------------------------------------------
def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = "other"
    return out


def assert_refused(capsys, root: Path, args: list[str], names: tuple[str, ...]) -> str:
    before = snapshot(root)
    code, out, err = run_cli(capsys, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert any(n in lines[0] for n in names), (names, lines[0])
    assert snapshot(root) == before, "the command changed or left files"
    return lines[0]


@pytest.fixture
def case_dir(tmp_path, monkeypatch):
    """A copy of the test data (scenario, both maps, tileset) as the working folder."""
    for p in DATA.iterdir():
        if p.is_file():
            shutil.copy(p, tmp_path / p.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- scenarios ------------------------------------------------------------------------------------
def sub(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new)

    return edit


def add(extra: str):
    return lambda text: text + "\n" + extra + "\n"


SCENARIO_CASES = {
    "invalid-toml": (add("[clock\nduration = 1"), "not valid TOML"),
    "duplicate-key": (add('[scenario]\nname = "again"'), "not valid TOML"),
    "tick-nan": (sub('frame_every = "60s"', 'frame_every = "60s"\ntick = nan'), "clock.tick"),
    "duration-inf": (sub('duration = "10min"', "duration = inf"), "clock.duration"),
    "duration-neg-inf": (sub('duration = "10min"', "duration = -inf"), "clock.duration"),
    "duration-true": (sub('duration = "10min"', "duration = true"), "clock.duration"),
    "duration-array": (sub('duration = "10min"', "duration = [1, 2]"), "clock.duration"),
    "duration-table": (sub('duration = "10min"', "duration = {a = 1}"), "clock.duration"),
    "duration-words": (sub('duration = "10min"', 'duration = "ten minutes"'), "clock.duration"),
    "duration-negative": (sub('duration = "10min"', "duration = -5"), "clock.duration"),
    "duration-100-years": (sub('duration = "10min"', 'duration = "36500d"'), "clock.duration"),
    "duration-1e300": (sub('duration = "10min"', "duration = 1e300"), "clock.duration"),
    "tick-1e-12": (sub('frame_every = "60s"', 'frame_every = "60s"\ntick = 1e-12'), "clock.duration"),
    "tick-zero": (sub('frame_every = "60s"', 'frame_every = "60s"\ntick = 0'), "clock.tick"),
    "tick-bool": (sub('frame_every = "60s"', 'frame_every = "60s"\ntick = false'), "clock.tick"),
    "frames-too-many": (
        lambda t: sub('duration = "10min"\nframe_every = "60s"', 'duration = "100d"\nframe_every = "1s"')(
            t.replace("count = 20", "count = 100")
        ),
        "clock.frame_every",
    ),
    "start-25h": (sub('start = "08:00"', 'start = "25:00"'), "clock.start"),
    "start-number": (sub('start = "08:00"', "start = 8"), "clock.start"),
    "start-bool": (sub('start = "08:00"', "start = true"), "clock.start"),
    "unknown-section": (add("[zombiez]\nspeed = 1"), "zombiez"),
    "unknown-key": (sub('label = "students"', 'label = "students"\nspeeed = 2'), "speeed"),
    "no-roles": (lambda t: t.split("[roles.student]")[0], "roles"),
    "no-world": (sub('[world]\nmap = "small_school.txt"', ""), "world"),
    "map-number": (sub('map = "small_school.txt"', "map = 5"), "world.map"),
    "count-negative": (sub("count = 20", "count = -1"), "population.0.count"),
    "count-float": (sub("count = 20", "count = 20.0"), "population.0.count"),
    "count-bool": (sub("count = 20", "count = true"), "population.0.count"),
    "count-string": (sub("count = 20", 'count = "20"'), "population.0.count"),
    "count-huge": (sub("count = 20", "count = 9223372036854775807"), "population.0.count"),
    "agents-over-limit": (sub("count = 20", "count = 6000000"), "population"),
    "walk-speed-nan": (sub('label = "students"', 'label = "students"\nwalk_speed = nan'), "walk_speed"),
    "walk-speed-inf": (sub('label = "students"', 'label = "students"\nwalk_speed = inf'), "walk_speed"),
    "walk-speed-bool": (sub('label = "students"', 'label = "students"\nwalk_speed = true'), "walk_speed"),
    "walk-speed-string": (sub('label = "students"', 'label = "students"\nwalk_speed = "fast"'), "walk_speed"),
    "courage-2": (sub("courage = 0.8", "courage = 2.0"), "courage"),
    "courage-nan": (sub("courage = 0.8", "courage = nan"), "courage"),
    "adult-number": (sub("adult = true", "adult = 1"), "adult"),
    "bite-prob-negative": (add("[zombies]\nbite_prob = -0.1"), "bite_prob"),
    "break-rate-inf": (add("[zombies]\nbreak_rate = inf"), "break_rate"),
    "seed-negative": (add("[run]\nseed = -1"), "run.seed"),
    "seed-float": (add("[run]\nseed = 1.5"), "run.seed"),
    "seed-bool": (add("[run]\nseed = true"), "run.seed"),
    "seed-over-int64": (add("[run]\nseed = 99999999999999999999999"), "run.seed"),
    "unknown-role": (sub('role = "teacher"', 'role = "janitor"'), "population"),
    "areas-empty": (sub('areas = ["science lab"]', "areas = []"), "population.1.areas"),
    "event-kind": (sub('kind = "patient_zero"', 'kind = "meteor"'), "events.0.kind"),
    "event-no-trigger": (sub('at = "08:01"\n', ""), "events.0"),
    "event-code-injection": (sub('at = "08:01"', "when = \"__import__('os').system('true')\""), "events.0"),
    "event-level-nan": (sub('at = "08:01"', 'at = "08:01"\nlevel = nan'), "events.0.level"),
    "character-twice": (
        add(
            '[[characters]]\nname="A"\nrole="student"\narea="yard"\n[[characters]]\nname="A"\nrole="student"\narea="yard"'
        ),
        "characters",
    ),
    "deep-nesting": (add("deep = " + "[" * 100_000 + "]" * 100_000), "TOML"),
    "incubation-min-max": (add('[infection.incubation]\nmin = "1h"\nmax = "1s"'), "incubation"),
    "name-number": (sub('name = "Tiny outbreak"', "name = 5"), "scenario.name"),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario(case_dir, capsys, case):
    edit, field = SCENARIO_CASES[case]
    (case_dir / "s.toml").write_text(edit(SCENARIO), encoding="utf-8")
    line = assert_refused(capsys, case_dir, ["run", "s.toml", "--out", "out", "-q"], ("s.toml",))
    assert field in line, line


RAW_SCENARIO_CASES = {
    "latin-1": lambda: SCENARIO.replace("Tiny outbreak", "Épidémie").encode("latin-1"),
    "random-bytes": lambda: bytes(range(256)) * 4,
    "utf-16": lambda: SCENARIO.encode("utf-16"),
    "nul-bytes": lambda: b"\x00" * 100,
    "empty": lambda: b"",
}


@pytest.mark.parametrize("case", sorted(RAW_SCENARIO_CASES))
def test_bad_scenario_bytes(case_dir, capsys, case):
    (case_dir / "s.toml").write_bytes(RAW_SCENARIO_CASES[case]())
    assert_refused(capsys, case_dir, ["run", "s.toml", "--out", "out", "-q"], ("s.toml",))


@pytest.mark.parametrize("case", ["folder", "dev-null", "symlink-loop", "missing", "fifo", "over-size-cap"])
def test_scenario_paths_that_are_not_files(case_dir, capsys, monkeypatch, case):
    target = case_dir / "s.toml"
    if case == "folder":
        target.mkdir()
    elif case == "dev-null":
        target.symlink_to("/dev/null")
    elif case == "symlink-loop":
        target.symlink_to(case_dir / "s2.toml")
        (case_dir / "s2.toml").symlink_to(target)
    elif case == "fifo":
        os.mkfifo(target)
    elif case == "over-size-cap":
        target.write_text(SCENARIO, encoding="utf-8")
        monkeypatch.setenv("HYOSAN_MAX_FILE_BYTES", "100")
    assert_refused(capsys, case_dir, ["run", "s.toml", "--out", "out", "-q"], ("s.toml",))


def test_a_scenario_with_a_bom_loads(case_dir):
    from hyosan.scenario import load_scenario

    (case_dir / "s.toml").write_bytes(b"\xef\xbb\xbf" + SCENARIO.encode("utf-8"))
    assert load_scenario("s.toml").scenario.scenario.name == "Tiny outbreak"


# -- maps -----------------------------------------------------------------------------------------
ASCII = (DATA / "small_school.txt").read_text(encoding="utf-8")

ASCII_CASES = {
    "size-huge": sub("name: Small school", "name: Small school\nsize: 100000 x 100000"),
    "size-words": sub("name: Small school", "name: Small school\nsize: big"),
    "size-too-many-digits": sub("name: Small school", "name: Small school\nsize: " + "9" * 5000 + " x 1"),
    "size-ragged": sub("name: Small school", "name: Small school\nsize: 3 x 3"),
    "unknown-char": sub("#aaaa+....S#,,", "#aaaa+..@.S#,,"),
    "tab": sub("#aaaa+....S#,,", "#aaaa+..\t.S#,,"),
    "no-floors": lambda t: "name: x\n",
    "empty-floor": sub("[floor 2F]", "[floor 3F]\n\n[floor 2F]"),
    "floor-twice": sub("[floor 2F]", "[floor 1F]"),
    "unknown-section": sub("[rooms]", "[roomz]"),
    "bad-header-line": lambda t: "hello there\n" + t,
    "header-no-bracket": sub("[rooms]", "[rooms"),
    "room-undeclared": sub("b: classroom 2-A (classroom)", ""),
    "room-twice": sub("b: classroom 2-A (classroom)", "b: classroom 2-A (classroom)\nb: again"),
    "room-bad-line": sub("b: classroom 2-A (classroom)", "b: classroom 2-A (classroom)\n???"),
    "link-malformed": sub("1F 8 3 - 2F 8 2", "1F 8 3 to 2F 8 2"),
    "link-not-stairs": sub("1F 8 3 - 2F 8 2", "1F 1 1 - 2F 8 2"),
    "link-off-map": sub("1F 8 3 - 2F 8 2", "1F 800 3 - 2F 8 2"),
    "link-huge-number": sub("1F 8 3 - 2F 8 2", "1F " + "9" * 5000 + " 3 - 2F 8 2"),
    "door-nan": sub("2F 5 3: 500", "2F 5 3: nan"),
    "door-inf": sub("2F 5 3: 500", "2F 5 3: inf"),
    "door-1e999": sub("2F 5 3: 500", "2F 5 3: 1e999"),
    "door-negative": sub("2F 5 3: 500", "2F 5 3: -1"),
    "door-not-a-door": sub("2F 5 3: 500", "2F 6 1: 500"),
    "spawn-bad": sub("hall: 2F 6 1 5 3", "hall: 9F 6 1 5 3"),
}


@pytest.mark.parametrize("case", sorted(ASCII_CASES))
def test_bad_ascii_map(case_dir, capsys, case):
    (case_dir / "small_school.txt").write_text(ASCII_CASES[case](ASCII), encoding="utf-8")
    assert_refused(
        capsys, case_dir, ["run", "tiny_outbreak.toml", "--out", "out", "-q"], ("small_school.txt",)
    )


@pytest.mark.parametrize("case", ["latin-1", "random-bytes", "char-device", "symlink-loop", "folder"])
def test_ascii_map_files_that_cannot_be_read(case_dir, capsys, case):
    target = case_dir / "small_school.txt"
    target.unlink()
    if case == "latin-1":
        target.write_bytes(ASCII.replace("Small school", "École").encode("latin-1"))
    elif case == "random-bytes":
        target.write_bytes(bytes(range(128, 256)) * 8)
    elif case == "char-device":
        target.symlink_to("/dev/zero")
    elif case == "symlink-loop":
        target.symlink_to(case_dir / "loop.txt")
        (case_dir / "loop.txt").symlink_to(target)
    elif case == "folder":
        target.mkdir()
    assert_refused(
        capsys, case_dir, ["run", "tiny_outbreak.toml", "--out", "out", "-q"], ("small_school.txt",)
    )


def group(data):
    return data["layers"][0]


def tiles(data):
    return group(data)["layers"][0]


def objects(data):
    return next(layer for layer in group(data)["layers"] if layer["type"] == "objectgroup")["objects"]


def setter(fn):
    def edit(data):
        fn(data)
        return data

    return edit


TILED_CASES = {
    "top-level-array": lambda d: [d],
    "width-string": setter(lambda d: d.update(width="14")),
    "width-bool": setter(lambda d: d.update(width=True)),
    "width-float": setter(lambda d: d.update(width=14.5)),
    "width-zero": setter(lambda d: d.update(width=0)),
    "width-huge": setter(lambda d: d.update(width=100000, height=100000)),
    "width-2-63": setter(lambda d: d.update(width=2**63)),
    "tiles-5": setter(lambda d: d["tilesets"][0].update(tiles=5)),
    "tilesets-not-list": setter(lambda d: d.update(tilesets={"a": 1})),
    "tileset-not-object": setter(lambda d: d.update(tilesets=[5])),
    "tilecount-string": setter(lambda d: d["tilesets"][0].update(tilecount="x")),
    "firstgid-missing": setter(lambda d: d["tilesets"][0].pop("firstgid")),
    "properties-5": setter(lambda d: d.update(properties=5)),
    "object-properties-5": setter(lambda d: objects(d)[0].update(properties=5)),
    "object-x-string": setter(lambda d: objects(d)[0].update(x="1")),
    "object-x-huge": setter(lambda d: objects(d)[0].update(x=10**30)),
    "object-rotated": setter(lambda d: objects(d)[0].update(rotation=45)),
    "object-ellipse": setter(lambda d: objects(d)[0].update(ellipse=True)),
    "object-name-number": setter(lambda d: objects(d)[0].update(name=5)),
    "object-not-object": setter(lambda d: objects(d).append(5)),
    "layers-missing": setter(lambda d: d.pop("layers")),
    "layers-not-list": setter(lambda d: d.update(layers="x")),
    "layer-tile-top-level": setter(lambda d: d["layers"].insert(0, {"type": "tilelayer"})),
    "group-without-tiles": setter(lambda d: group(d).update(layers=[])),
    "data-short": setter(lambda d: tiles(d).update(data=tiles(d)["data"][:-1])),
    "data-negative-gid": setter(lambda d: tiles(d)["data"].__setitem__(1, -5)),
    "data-float-gid": setter(lambda d: tiles(d)["data"].__setitem__(1, 2.5)),
    "data-unknown-gid": setter(lambda d: tiles(d)["data"].__setitem__(1, 999)),
    "data-bad-base64": setter(lambda d: tiles(d).update(data="!!!", encoding="base64")),
    "data-bad-zlib": setter(
        lambda d: tiles(d).update(
            data=base64.b64encode(b"nonsense").decode(), encoding="base64", compression="zlib"
        )
    ),
    "data-zstd": setter(
        lambda d: tiles(d).update(
            data=base64.b64encode(zlib.compress(b"")).decode(), encoding="base64", compression="zstd"
        )
    ),
    "orientation-iso": setter(lambda d: d.update(orientation="isometric")),
    "infinite": setter(lambda d: d.update(infinite=True)),
    "tileset-tsx": setter(lambda d: d["tilesets"].append({"firstgid": 100, "source": "x.tsx"})),
    "tileset-missing-file": setter(lambda d: d["tilesets"].append({"firstgid": 100, "source": "nope.tsj"})),
    "tileset-dev-zero": setter(lambda d: d["tilesets"].append({"firstgid": 100, "source": "/dev/zero"})),
    "tileset-source-number": setter(lambda d: d["tilesets"].append({"firstgid": 100, "source": 5})),
}


def tiled_scenario(case_dir: Path) -> None:
    (case_dir / "s.toml").write_text(
        SCENARIO.replace("small_school.txt", "small_school.tmj"), encoding="utf-8"
    )


@pytest.mark.parametrize("case", sorted(TILED_CASES))
def test_bad_tiled_map(case_dir, capsys, case):
    tiled_scenario(case_dir)
    data = TILED_CASES[case](json.loads(json.dumps(TILED)))
    (case_dir / "small_school.tmj").write_text(json.dumps(data), encoding="utf-8")
    line = assert_refused(
        capsys,
        case_dir,
        ["run", "s.toml", "--out", "out", "-q"],
        ("small_school.tmj", "x.tsx", "nope.tsj", "/dev/zero"),
    )
    assert "line" not in line or case == "top-level-array" or "JSON" not in line


TILED_TEXT_CASES = {
    "not-json": lambda t: t[:-10],
    "nan": lambda t: t.replace('"height": 6', '"height": NaN', 1),
    "infinity": lambda t: t.replace('"height": 6', '"height": Infinity', 1),
    "1e400": lambda t: t.replace('"height": 6', '"height": 1e400', 1),
    "deep-nesting": lambda t: "[" * 200_000 + "]" * 200_000,
    "latin-1": None,
}


@pytest.mark.parametrize("case", sorted(TILED_TEXT_CASES))
def test_bad_tiled_text(case_dir, capsys, case):
    tiled_scenario(case_dir)
    text = (DATA / "small_school.tmj").read_text(encoding="utf-8")
    path = case_dir / "small_school.tmj"
    if case == "latin-1":
        path.write_bytes(text.replace('"tiles"', '"tilés"', 1).encode("latin-1"))
    else:
        path.write_text(TILED_TEXT_CASES[case](text), encoding="utf-8")
    assert_refused(capsys, case_dir, ["run", "s.toml", "--out", "out", "-q"], ("small_school.tmj",))


@pytest.mark.parametrize("case", ["tileset-symlink-loop", "tileset-latin-1", "tileset-fifo"])
def test_bad_external_tileset_files(case_dir, capsys, case):
    tiled_scenario(case_dir)
    data = json.loads(json.dumps(TILED))
    data["tilesets"].append({"firstgid": 100, "source": "extra.tsj"})
    (case_dir / "small_school.tmj").write_text(json.dumps(data), encoding="utf-8")
    extra = case_dir / "extra.tsj"
    if case == "tileset-symlink-loop":
        extra.symlink_to(case_dir / "loop.tsj")
        (case_dir / "loop.tsj").symlink_to(extra)
    elif case == "tileset-latin-1":
        extra.write_bytes('{"name": "é"}'.encode("latin-1"))
    else:
        os.mkfifo(extra)
    assert_refused(capsys, case_dir, ["run", "s.toml", "--out", "out", "-q"], ("extra.tsj",))


def test_a_tiled_map_with_a_bom_loads(case_dir):
    from hyosan.world import load_map

    path = case_dir / "bom.tmj"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "small_school.tmj").read_bytes())
    assert load_map(path).floors == ["1F", "2F"]


# -- flags of every command ---------------------------------------------------------------------------
def user_folder(case_dir: Path) -> None:
    (case_dir / "notes").mkdir()
    (case_dir / "notes" / "todo.txt").write_text("mine", encoding="utf-8")
    (case_dir / "results.csv").write_text("a,b\n", encoding="utf-8")
    (case_dir / "adir").mkdir()
    (case_dir / "link").symlink_to(case_dir / "adir")


T = "tiny_outbreak.toml"
FLAG_CASES = {
    # hyosan run
    "run-out-user-folder": (["run", T, "--out", "notes"], "--out"),
    "run-out-user-file": (["run", T, "--out", "results.csv"], "--out"),
    "run-out-dot": (["run", T, "--out", "."], "--out"),
    "run-out-root": (["run", T, "--out", "/"], "--out"),
    "run-out-symlink": (["run", T, "--out", "link"], "--out"),
    "run-out-cwd-absolute": (["run", T, "--out", "{cwd}"], "--out"),
    "run-seed-negative": (["run", T, "--seed", "-1"], "--seed"),
    "run-seed-huge": (["run", T, "--seed", str(2**70)], "--seed"),
    "run-seed-word": (["run", T, "--seed", "abc"], "--seed"),
    "run-seed-float": (["run", T, "--seed", "1.5"], "--seed"),
    "run-set-malformed": (["run", T, "--set", "clock.duration"], "--set"),
    "run-set-empty-value": (["run", T, "--set", "clock.duration="], "--set"),
    "run-set-nan": (["run", T, "--set", "clock.duration=nan"], "--set"),
    "run-set-inf": (["run", T, "--set", "clock.tick=inf"], "--set"),
    "run-set-bool": (["run", T, "--set", "clock.duration=true"], "--set"),
    "run-set-tiny-tick": (["run", T, "--set", "clock.tick=1e-12"], "--set"),
    "run-set-unknown-key": (["run", T, "--set", "clock.speed=2"], "--set"),
    "run-set-list-index": (["run", T, "--set", "population.99.count=1"], "--set"),
    "run-set-not-table": (["run", T, "--set", "clock.duration.x=1"], "--set"),
    "run-set-count-float": (["run", T, "--set", "population.0.count=2.5"], "--set"),
    "run-set-seed-negative": (["run", T, "--set", "run.seed=-1"], "--set"),
    "run-unknown-flag": (["run", T, "--bogus"], "--bogus"),
    "run-missing-scenario": (["run", "nope.toml"], "nope.toml"),
    "run-report-value": (["run", T, "--report", "yes"], "hyosan run"),
    # hyosan check
    "check-missing": (["check", "nope.toml"], "nope.toml"),
    "check-set-nan": (["check", T, "--set", "roles.student.courage=nan"], "--set"),
    "check-no-argument": (["check"], "hyosan check"),
    # hyosan model
    "model-unknown": (["model", "nosuch"], "nosuch"),
    "model-no-name": (["model"], "model"),
    "model-method": (["model", "alemi", "--method", "magic"], "--method"),
    "model-runs-word": (["model", "alemi", "--runs", "abc"], "--runs"),
    "model-runs-1e9-text": (["model", "alemi", "--runs", "1e9"], "--runs"),
    "model-runs-zero": (["model", "alemi", "--method", "ssa", "--runs", "0"], "--runs"),
    "model-runs-huge": (["model", "alemi", "--method", "ssa", "--runs", "1000000000"], "--runs"),
    "model-points-one": (["model", "alemi", "--points", "1"], "--points"),
    "model-points-huge": (["model", "alemi", "--points", "1000000000"], "--points"),
    "model-seed-negative": (["model", "alemi", "--method", "ssa", "--seed", "-1"], "--seed"),
    "model-seed-huge": (["model", "alemi", "--method", "ssa", "--seed", str(2**64)], "--seed"),
    "model-t-end-nan": (["model", "alemi", "--t-end", "nan"], "--t-end"),
    "model-t-end-inf": (["model", "alemi", "--t-end", "inf"], "--t-end"),
    "model-t-end-negative": (["model", "alemi", "--t-end", "-1"], "--t-end"),
    "model-set-overflow": (["model", "alemi", "--method", "ssa", "--set", "N=1e30"], "--set"),
    "model-set-nan": (["model", "alemi", "--set", "N=nan"], "--set"),
    "model-set-bool": (["model", "alemi", "--set", "N=true"], "--set"),
    "model-set-unknown": (["model", "alemi", "--set", "bogus=1"], "--set"),
    "model-set-malformed": (["model", "alemi", "--set", "N"], "--set"),
    "model-stop-bad": (["model", "munz-basic", "--stop", "Q<<1"], "--stop"),
    "model-plot-exe": (["model", "alemi", "--plot", "x.exe"], "--plot"),
    "model-plot-folder": (["model", "alemi", "--plot", "adir"], "adir"),
    "model-plot-no-suffix": (["model", "alemi", "--plot", "figure"], "--plot"),
    "model-vary-bad": (["model", "alemi", "--vary", "beta"], "--vary"),
    "model-vary-huge": (["model", "alemi", "--vary", "beta=0:1:99999999999", "--out", "st"], "--vary"),
    "model-out-user-folder": (["model", "alemi", "--out", "notes", "--workers", "0"], "notes"),
    "model-out-user-file": (["model", "alemi", "--out", "results.csv", "--workers", "0"], "results.csv"),
    "model-workers-negative": (["model", "alemi", "--workers", "-1", "--out", "st"], "--workers"),
    "model-scheduler-bogus": (["model", "alemi", "--scheduler", "bogus", "--out", "st"], "--scheduler"),
    # hyosan sweep
    "sweep-workers-negative": (["sweep", T, "--workers", "-1", "--out", "st"], "--workers"),
    "sweep-workers-huge": (["sweep", T, "--workers", "100000", "--out", "st"], "--workers"),
    "sweep-scheduler-bogus": (["sweep", T, "--scheduler", "bogus", "--out", "st"], "--scheduler"),
    "sweep-scheduler-and-workers": (
        ["sweep", T, "--scheduler", "tcp://h:1", "--workers", "2", "--out", "st"],
        "--workers",
    ),
    "sweep-runs-zero": (["sweep", T, "--runs", "0", "--out", "st"], "--runs"),
    "sweep-runs-huge": (["sweep", T, "--runs", "100000000", "--out", "st"], "--runs"),
    "sweep-seed-negative": (["sweep", T, "--seed", "-1", "--out", "st"], "--seed"),
    "sweep-vary-huge": (
        ["sweep", T, "--vary", "roles.student.courage=0:1:99999999999", "--out", "st"],
        "--vary",
    ),
    "sweep-vary-product-huge": (
        ["sweep", T, "--vary", "a=0:1:10000", "--vary", "b=0:1:10000", "--out", "st"],
        "--vary",
    ),
    "sweep-vary-steps-digits": (["sweep", T, "--vary", "a=0:1:" + "9" * 5000, "--out", "st"], "--vary"),
    "sweep-vary-nan": (["sweep", T, "--vary", "a=nan:1:3", "--out", "st"], "--vary"),
    "sweep-vary-twice": (["sweep", T, "--vary", "a=1,2", "--vary", "a=3,4", "--out", "st"], "--vary"),
    "sweep-vary-reserved": (["sweep", T, "--vary", "seed=1,2", "--out", "st"], "--vary"),
    "sweep-points-one": (["sweep", T, "--points", "1", "--out", "st"], "--points"),
    "sweep-keep-negative": (["sweep", T, "--keep", "-1", "--out", "st"], "--keep"),
    "sweep-out-user-folder": (["sweep", T, "--out", "notes"], "notes"),
    "sweep-out-user-file": (["sweep", T, "--out", "results.csv"], "results.csv"),
    "sweep-set-bad": (["sweep", T, "--set", "clock.tick=nan", "--out", "st"], "--set"),
    # hyosan sensitivity
    "sensitivity-no-output": (["sensitivity", "model:alemi", "--param", "beta=0:1"], "--output"),
    "sensitivity-bad-param": (
        ["sensitivity", "model:alemi", "--param", "beta", "--output", "final_Z"],
        "--param",
    ),
    "sensitivity-workers": (
        [
            "sensitivity",
            "model:alemi",
            "--param",
            "beta=0.1:1",
            "--output",
            "final_Z",
            "--workers",
            "-1",
            "--out",
            "st",
        ],
        "--workers",
    ),
    # hyosan report
    "report-missing": (["report", "nope"], "nope"),
    "report-not-a-run": (["report", "notes"], "notes"),
    "report-a-file": (["report", "results.csv"], "results.csv"),
    "report-fps-zero": (["report", "notes", "--fps", "0"], "--fps"),
    "report-fps-huge": (["report", "notes", "--fps", "100000"], "--fps"),
    "report-fps-word": (["report", "notes", "--fps", "fast"], "--fps"),
    "report-video-avi": (["report", "notes", "--video", "x.avi"], "--video"),
    "report-video-folder": (["report", "notes", "--video", "adir"], "adir"),
    "report-out-folder": (["report", "notes", "--out", "adir"], "adir"),
    "report-out-txt": (["report", "notes", "--out", "x.txt"], "--out"),
    # hyosan verify and the root
    "verify-missing": (["verify", "nope"], "nope"),
    "verify-user-folder": (["verify", "notes"], "notes"),
    "root-unknown-command": (["simulate"], "simulate"),
    "root-unknown-flag": (["--bogus"], "--bogus"),
}


@pytest.mark.parametrize("case", sorted(FLAG_CASES))
def test_bad_flag(case_dir, capsys, case):
    user_folder(case_dir)
    args, name = FLAG_CASES[case]
    args = [a.replace("{cwd}", str(case_dir)) for a in args]
    if args[0] in ("run", "check"):
        args += ["-q"] if args[0] == "run" and "--bogus" not in args else []
    assert_refused(capsys, case_dir, args, (name,))


# -- damaged run folders and stores -----------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """One small run folder (the tiny outbreak, one simulated minute), written by hyosan."""
    from hyosan.engine import Simulation
    from hyosan.results.store import save
    from hyosan.scenario import load_scenario

    root = tmp_path_factory.mktemp("saved")
    for p in DATA.iterdir():
        shutil.copy(p, root / p.name)
    loaded = load_scenario(str(root / T), {"clock.duration": '"1min"'})
    return save(Simulation(loaded, seed=1).run(), root / "run", report=None)


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path: Path) -> None:
    path.write_bytes(b"garbage" * 100)


def npz_without_arrays(path: Path) -> None:
    import numpy as np

    np.savez(path, nothing=np.zeros(3))


DAMAGE = {
    "summary-garbage": ("summary.json", garbage),
    "summary-list": ("summary.json", lambda p: p.write_text("[]", encoding="utf-8")),
    "summary-empty-object": ("summary.json", lambda p: p.write_text("{}", encoding="utf-8")),
    "summary-latin-1": ("summary.json", lambda p: p.write_bytes('{"title": "é"}'.encode("latin-1"))),
    "summary-deep": ("summary.json", lambda p: p.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")),
    "counts-truncated": ("counts.parquet", truncate),
    "counts-garbage": ("counts.parquet", garbage),
    "events-truncated": ("events.parquet", truncate),
    "agents-garbage": ("agents.parquet", garbage),
    "frames-truncated": ("frames.npz", truncate),
    "frames-garbage": ("frames.npz", garbage),
    "world-no-arrays": ("world.npz", npz_without_arrays),
    "world-truncated": ("world.npz", truncate),
    "scenario-latin-1": ("scenario.toml", lambda p: p.write_bytes("name = 'é'".encode("latin-1"))),
    "frames-missing": ("frames.npz", lambda p: p.unlink()),
}


@pytest.mark.parametrize("with_digests", [True, False], ids=["digests", "no-digests"])
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_run_folder(saved_run, tmp_path, capsys, monkeypatch, case, with_digests):
    folder = tmp_path / "run"
    shutil.copytree(saved_run, folder)
    if not with_digests:  # a folder from before digests: damage is found by reading
        marker = json.loads((folder / ".hyosan.json").read_text(encoding="utf-8"))
        marker.pop("sha256")
        (folder / ".hyosan.json").write_text(json.dumps(marker), encoding="utf-8")
    name, damage = DAMAGE[case]
    damage(folder / name)
    monkeypatch.chdir(tmp_path)
    assert_refused(capsys, tmp_path, ["report", "run"], (name, "run: missing"))
    code, _, err = run_cli(capsys, "verify", "run")
    assert code == 2 and (name in err or "missing" in err) and "Traceback" not in err


def test_verify_passes_an_intact_run_folder(saved_run, capsys):
    code, out, _ = run_cli(capsys, "verify", str(saved_run))
    assert code == 0 and "ok" in out


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A small model sweep's store (ODE runs in this process: milliseconds)."""
    monkeypatch.chdir(tmp_path)
    code = run_cli_quiet("model", "alemi", "--vary", "beta=0.01,0.02", "--out", "st", "--workers", "0", "-q")
    assert code == 0
    return tmp_path / "st"


def run_cli_quiet(*args: str) -> int:
    from hyosan.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


STORE_DAMAGE = {
    "sweep-json-list": lambda st: (st / "sweep.json").write_text("[]", encoding="utf-8"),
    "sweep-json-garbage": lambda st: (st / "sweep.json").write_bytes(b"\xff\xfe garbage"),
    "sweep-json-other-format": lambda st: (st / "sweep.json").write_text('{"format": "x"}', encoding="utf-8"),
}


@pytest.mark.parametrize("case", sorted(STORE_DAMAGE))
def test_damaged_store_is_refused(store, capsys, case):
    capsys.readouterr()
    STORE_DAMAGE[case](store)
    assert_refused(
        capsys,
        store.parent,
        ["model", "alemi", "--vary", "beta=0.01,0.02", "--out", "st", "--workers", "0", "-q"],
        ("sweep.json",),
    )


@pytest.mark.parametrize("damage", [truncate, garbage], ids=["truncated", "garbage"])
def test_a_damaged_run_file_is_set_aside_and_rerun(store, capsys, damage):
    capsys.readouterr()
    victim = sorted((store / "runs").glob("*.parquet"))[0]
    damage(victim)
    code, _, err = run_cli(capsys, "verify", str(store))
    assert code == 2 and victim.name in err
    code, out, err = run_cli(
        capsys, "model", "alemi", "--vary", "beta=0.01,0.02", "--out", str(store), "--workers", "0", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["ran"] == 1 and summary["finished"] == 2
    assert victim.exists() and len(list((store / "damaged").iterdir())) == 1
    import pyarrow.parquet as pq

    assert pq.read_table(victim).num_rows == 1


def test_an_unreachable_scheduler_leaves_no_store(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from hyosan.ensemble import executors

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1)
    assert_refused(
        capsys,
        tmp_path,
        [
            "model",
            "alemi",
            "--vary",
            "beta=0.01,0.02",
            "--out",
            "st",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "-q",
        ],
        ("--scheduler",),
    )


# -- faults: a full disk, a read-only folder, a kill during the swap --------------------------------
@contextlib.contextmanager
def small_files():
    """Files may not grow past 1 kB (RLIMIT_FSIZE): a write fails with EFBIG, as on a full disk."""
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, old_limit[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)


def test_a_full_disk_during_a_save_leaves_nothing_and_says_so(saved_run, tmp_path, capsys, monkeypatch):
    from hyosan.results.store import load, save

    result = load(saved_run)
    (tmp_path / "big").mkdir()
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(Exception) as err:
        with small_files():
            save(result, tmp_path / "out", report=None)
    from hyosan.errors import HyosanError

    assert isinstance(err.value, HyosanError) and "\n" not in str(err.value)
    assert str(tmp_path / "out") in str(err.value)
    assert snapshot(tmp_path) == before


def tmpfs(path: Path, size: str):
    path.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return proc.returncode == 0


def test_a_really_full_file_system(saved_run, tmp_path, capsys, monkeypatch):
    """Where the machine allows a small tmpfs (root in a container), a real full disk."""
    disk = tmp_path / "disk"
    if not tmpfs(disk, "48k"):
        pytest.skip("cannot mount a small file system here")
    try:
        for p in DATA.iterdir():
            if p.suffix in (".toml", ".txt"):
                shutil.copy(p, disk / p.name)
        monkeypatch.chdir(disk)
        from hyosan.errors import HyosanError
        from hyosan.results.store import load, save

        before = snapshot(disk)
        with pytest.raises(HyosanError) as err:
            save(load(saved_run), disk / "out", report=None)
        assert "no space left" in str(err.value) and str(disk / "out") in str(err.value)
        assert snapshot(disk) == before
    finally:
        os.chdir(tmp_path)  # out of the mount, so that it can be unmounted
        subprocess.run(["umount", str(disk)], check=False)


def test_a_read_only_folder(saved_run, tmp_path, capsys, monkeypatch):
    """A folder hyosan may not write: read-only permissions, or (for root, who writes through
    permissions) a file system mounted read-only."""
    ro = tmp_path / "ro"
    mounted = os.geteuid() == 0
    if mounted:
        if not tmpfs(ro, "64m"):
            pytest.skip("root, and no small file system can be mounted here")
    else:
        ro.mkdir()
    shutil.copytree(saved_run, ro / "run")
    if mounted:
        assert subprocess.run(["mount", "-o", "remount,ro", str(ro)], capture_output=True).returncode == 0
    else:
        ro.chmod(0o555)
        (ro / "run").chmod(0o555)
    try:
        monkeypatch.chdir(tmp_path)
        assert_refused(capsys, tmp_path, ["report", "ro/run"], ("ro/run",))
        assert_refused(capsys, tmp_path, ["model", "alemi", "--plot", "ro/fig.png"], ("ro/fig.png", "ro"))
    finally:
        if mounted:
            os.chdir(tmp_path)
            subprocess.run(["umount", str(ro)], check=False)
        else:
            (ro / "run").chmod(0o755)
            ro.chmod(0o755)


def test_a_kill_during_the_swap_of_a_real_run_folder(saved_run, tmp_path):
    """The crash-injection test of hyosan.io (test_reliability_folders) on a real run folder."""
    from hyosan import io
    from hyosan.results.store import load, save

    result = load(saved_run)
    target = tmp_path / "run"
    shutil.copytree(saved_run, target)
    pid = os.fork()
    if pid == 0:
        try:
            io._RENAMEAT2 = None
            io._step = lambda name: os.kill(os.getpid(), signal.SIGKILL) if name == "old-moved" else None
            save(result, target, report=None)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert not target.exists()  # killed between the two renames
    io.recover(target)
    load(target)  # the old run is back, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


STORE_TABLE_DAMAGE = {
    "runs-garbage": ("runs.parquet", garbage),
    "bands-truncated": ("bands.parquet", truncate),
    "sweep-json-list": ("sweep.json", lambda p: p.write_text("[]", encoding="utf-8")),
    "sweep-json-latin-1": ("sweep.json", lambda p: p.write_bytes(b'{"format": "\xe9"}')),
}


@pytest.mark.parametrize("case", sorted(STORE_TABLE_DAMAGE))
def test_report_of_a_damaged_store(store, capsys, case):
    capsys.readouterr()
    name, damage = STORE_TABLE_DAMAGE[case]
    damage(store / name)
    assert_refused(capsys, store.parent, ["report", "st"], (name,))
    code, _, err = run_cli(capsys, "verify", "st")
    assert code == 2 and name in err
