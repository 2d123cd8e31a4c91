"""Property-based fuzzing of the loaders (docs/reliability.md, "Fuzzing").

Whatever the input, a loader either returns its object or raises HyosanError (one line); never
another exception, never a hang. About 11,000 examples in all, each a fraction of a millisecond
to a few milliseconds (no engine runs). ``HYOSAN_FUZZ_SCALE=20`` multiplies every budget for a
longer run (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyosan.errors import HyosanError
from hyosan.io import decode
from hyosan.scenario.load import apply_overrides, parse_toml, validate
from hyosan.world.ascii import load_ascii_text
from hyosan.world.tiled import _Loader, parse_json

DATA = Path(__file__).parent / "data"
SCENARIO_TEXT = (DATA / "tiny_outbreak.toml").read_text(encoding="utf-8")
SCENARIO = tomllib.loads(SCENARIO_TEXT)
TILED = json.loads((DATA / "small_school.tmj").read_text(encoding="utf-8"))
ASCII = (DATA / "small_school.txt").read_text(encoding="utf-8")
SCALE = int(os.environ.get("HYOSAN_FUZZ_SCALE", "1"))


def fuzz(n: int):
    return settings(
        max_examples=n * SCALE, deadline=None, derandomize=SCALE == 1, suppress_health_check=list(HealthCheck)
    )


@contextlib.contextmanager
def small_limits():
    """Small maps and runs, so that an example that passes allocates little."""
    old = {k: os.environ.get(k) for k in ("HYOSAN_MAX_MAP_CELLS", "HYOSAN_MAX_TICKS", "HYOSAN_MAX_AGENTS")}
    os.environ.update(HYOSAN_MAX_MAP_CELLS="5000", HYOSAN_MAX_TICKS="100000", HYOSAN_MAX_AGENTS="10000")
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def one_line(exc: HyosanError) -> None:
    assert "\n" not in str(exc).strip(), str(exc)


# -- values that a careless or hostile user might type -----------------------------------------------
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["10min", "08:00", "1e-12s", "36500d", "nan", "inf", "-1s", "", "kind:classroom", "2F"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def paths(tree, prefix=()):
    """Every (path, node) of a nested dict/list tree."""
    yield prefix, tree
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from paths(v, (*prefix, i))


def replaced(tree, path, value):
    out = copy.deepcopy(tree)
    if not path:
        return value
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def mutations(tree, n_max=3):
    """A tree with up to ``n_max`` of its nodes replaced by arbitrary JSON-like values."""
    all_paths = [p for p, _ in paths(tree)]

    @st.composite
    def build(draw):
        out = tree
        for _ in range(draw(st.integers(1, n_max))):
            here = [p for p, _ in paths(out)] if out is not tree else all_paths
            path = draw(st.sampled_from(here))
            out = replaced(out, path, draw(json_values))
        return out

    return build()


# -- the scenario loader ----------------------------------------------------------------------------
TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.text(max_size=10),
    st.lists(st.integers(0, 10), max_size=3),
)


@fuzz(3000)
@given(mutations({k: v for k, v in SCENARIO.items()}))
def test_scenario_tables_validate_or_fail_in_one_line(raw):
    if not isinstance(raw, dict):
        raw = {"value": raw}
    with small_limits():
        try:
            validate(raw, "s.toml")
        except HyosanError as exc:
            one_line(exc)
            assert str(exc).startswith("s.toml")


@fuzz(1500)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode), st.integers(0, len(SCENARIO_TEXT)))
def test_scenario_text_parses_or_fails_in_one_line(junk, at):
    data = SCENARIO_TEXT.encode()[:at] + junk + SCENARIO_TEXT.encode()[at:]
    with small_limits():
        try:
            validate(parse_toml(decode(data, "s.toml"), "s.toml"), "s.toml")
        except HyosanError as exc:
            one_line(exc)


SET_KEYS = [
    "clock.duration",
    "clock.tick",
    "clock.start",
    "clock.frame_every",
    "roles.student.courage",
    "roles.student.walk_speed",
    "population.0.count",
    "population.1.areas",
    "events.0.at",
    "run.seed",
    "zombies.bite_prob",
    "world.map",
    "infection.incubation.median",
    "population.7.count",
    "clock",
    "roles.student.adult",
    "a.b.c",
    "events.0.when",
    "behaviour.refuge_kinds",
]


@fuzz(2500)
@given(
    st.sampled_from(SET_KEYS) | st.text(max_size=20),
    st.text(max_size=30)
    | st.sampled_from(
        ["nan", "inf", "-inf", "1e-12", "1e400", "true", "[1,2]", "{a=1}", "'x'", "99999999999999999999"]
    ),
)
def test_set_values_apply_or_fail_in_one_line(key, value):
    from hyosan.cli import parse_assignments

    with small_limits():
        try:
            overrides = parse_assignments([f"{key}={value}"])
            validate(apply_overrides(SCENARIO, overrides), "s.toml")
        except HyosanError as exc:
            one_line(exc)


# -- the Tiled loader -------------------------------------------------------------------------------
@fuzz(2500)
@given(mutations(TILED))
def test_tiled_maps_load_or_fail_in_one_line(data):
    with small_limits():
        try:
            _Loader(DATA / "fuzz.tmj", data).world()
        except HyosanError as exc:
            one_line(exc)


@fuzz(500)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_json_text_parses_or_fails_in_one_line(data):
    try:
        parse_json(decode(data, "m.tmj"), "m.tmj")
    except HyosanError as exc:
        one_line(exc)


# -- the ASCII loader -------------------------------------------------------------------------------
ASCII_ALPHABET = "#.+=/BLSE,ab \n:-0123456789[]xyz\t;é"
ASCII_LINES = [
    "[floor 1F]",
    "[floor 2F]",
    "[rooms]",
    "[spawns]",
    "[links]",
    "[doors]",
    "a: lab (lab)",
    "size: 3 x 3",
    "size: 99999 x 99999",
    "name: x",
    "1F 8 3 - 2F 8 2",
    "2F 5 3: nan",
    "hall: 2F 6 1 5 3",
    "#####",
    "#a+.E",
    "S",
]


@st.composite
def ascii_maps(draw):
    lines = ASCII.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines)))
        if draw(st.booleans()) and lines:
            del lines[min(i, len(lines) - 1)]
        new = draw(st.sampled_from(ASCII_LINES) | st.text(ASCII_ALPHABET, max_size=20))
        lines.insert(i, new)
    return "\n".join(lines)


@fuzz(1500)
@given(ascii_maps())
def test_ascii_maps_load_or_fail_in_one_line(text):
    with small_limits():
        try:
            load_ascii_text(text, "m.txt")
        except HyosanError as exc:
            one_line(exc)
