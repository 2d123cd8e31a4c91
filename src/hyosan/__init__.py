"""hyosan: zombie outbreaks at three resolutions that share one set of parameters.

The public API lives here and nothing else:

- :mod:`hyosan.models`: the catalogue of classic compartment models (Munz et al. 2009,
  Alemi et al. 2015), solved as ODEs, exactly (Gillespie) or by tau-leaping.
- :class:`hyosan.HyosanError`: the one exception type for mistakes a user can make.
"""

from importlib.metadata import PackageNotFoundError, version

from hyosan import models
from hyosan.errors import HyosanError

try:
    __version__ = version("hyosan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["HyosanError", "__version__", "models"]
