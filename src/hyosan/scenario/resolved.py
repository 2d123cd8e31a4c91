"""The resolved scenario: every value filled in, written beside a run so that it reruns exactly."""

from __future__ import annotations

from typing import Any

import tomli_w

from hyosan import __version__
from hyosan.scenario.load import LoadedScenario


def _drop_none(value: Any) -> Any:
    """TOML has no null: unset optional values are left out (they mean "use the default")."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def resolved_toml(loaded: LoadedScenario, seed: int, map_name: str | None = None) -> str:
    """The scenario as TOML with all defaults filled in, the run's seed and hyosan's version.

    ``map_name`` replaces the map path (a saved run folder keeps a copy of the map beside it).
    """
    data = loaded.scenario.model_dump(mode="json")
    data["world"]["map"] = map_name or loaded.map_path().name
    data["run"] = {"seed": int(seed), "hyosan": __version__}
    for section in ("zombies", "halfbies"):
        # A bite given as a rate replaces the chance: writing both would not load again.
        if data[section].get("bite_rate") is not None:
            data[section].pop("bite_prob", None)
    head = (
        f"# {loaded.scenario.scenario.name}: resolved by hyosan {__version__} from {loaded.source}\n"
        f"# Every value is filled in; `hyosan run scenario.toml` reruns this run (seed {seed}).\n\n"
    )
    return head + tomli_w.dumps(_drop_none(data))
