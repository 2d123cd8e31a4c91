"""``hyosan calibrate``: fit a compartment model, a school scenario or a town to data or to
targets, with Optuna over the ensemble machinery, resumable, judged on held-out seeds.

``calibrate(config, out)`` runs a study (:mod:`hyosan.calibrate.study`); ``load_config`` reads
and checks a config (:mod:`hyosan.calibrate.config`); docs/calibration.md walks through it.
"""

from hyosan.calibrate.config import Calibration, load_config
from hyosan.calibrate.study import CalibrationResult, Progress, calibrate

__all__ = ["Calibration", "CalibrationResult", "Progress", "calibrate", "load_config"]
