"""Scenarios: the TOML schema, loading, overrides and the built-ins."""

from hyosan.scenario.load import LoadedScenario, builtins, load_scenario
from hyosan.scenario.schema import Scenario

__all__ = ["LoadedScenario", "Scenario", "builtins", "load_scenario"]
