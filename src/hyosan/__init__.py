"""hyosan: zombie outbreaks at three resolutions that share one set of parameters.

The public API lives here and nothing else:

- :mod:`hyosan.models`: the catalogue of classic compartment models (Munz et al. 2009,
  Alemi et al. 2015), solved as ODEs, exactly (Gillespie) or by tau-leaping.
- :func:`hyosan.simulate`: run a school scenario (Hyosan High by default) to a
  :class:`~hyosan.results.Result`; :func:`hyosan.load` reads a saved run folder back into one.
- :class:`hyosan.HyosanError`: the one exception type for mistakes a user can make.
"""

from importlib.metadata import PackageNotFoundError, version

from hyosan.errors import HyosanError

try:
    __version__ = version("hyosan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["HyosanError", "Result", "__version__", "load", "models", "simulate"]


def __getattr__(name: str):
    """``models``, ``simulate``, ``load`` and ``Result`` are imported on first use: the models pull
    in SciPy and pandas, the engine numba, and a sweep's worker process or the CLI's ``--help``
    needs only some of them (each one imported costs start-up time in every worker)."""
    if name == "models":
        import hyosan.models as models  # (on first use: see the docstring)

        return models
    if name == "simulate":
        from hyosan.engine import simulate  # (on first use)

        return simulate
    if name in ("load", "Result"):
        import hyosan.results as results  # (on first use)

        return getattr(results, name)
    raise AttributeError(f"module 'hyosan' has no attribute {name!r}")


def __dir__() -> list[str]:
    """``dir(hyosan)`` lists the public API, the lazily imported names included (``simulate``,
    ``load``, ``models``, ``Result``), as tab completion in a notebook shows them."""
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__")})
