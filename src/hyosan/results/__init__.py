"""What a run leaves behind: the Result tables, the run folder, analysis and the chronicle."""

from hyosan.results.result import Result, WorldInfo
from hyosan.results.store import load, save

__all__ = ["Result", "WorldInfo", "load", "save"]
