"""Many runs: ensembles, parameter sweeps and sensitivity analysis, on local cores or on Dask.

- :mod:`~hyosan.ensemble.spec`: ``--vary`` values, their cross product, each run's id and seed;
- :mod:`~hyosan.ensemble.runners`: what a worker does with a run (a school scenario, a
  compartment model, any function) and the metrics and series it returns;
- :mod:`~hyosan.ensemble.executors`: this process, local processes, Dask; one interface;
- :mod:`~hyosan.ensemble.store`: the resumable store (``sweep.json``, ``runs/``,
  ``runs.parquet``, ``bands.parquet``);
- :mod:`~hyosan.ensemble.sweep`: running a sweep, and the Python API (:func:`sweep`,
  :func:`model_sweep`, :func:`function_sweep`);
- :mod:`~hyosan.ensemble.sensitivity`: Sobol and Morris indices with SALib;
- :mod:`~hyosan.ensemble.cli`: the ``sweep`` and ``sensitivity`` commands.

Import the API from its modules: ``from hyosan.ensemble.sweep import sweep``,
``from hyosan.ensemble.sensitivity import sensitivity`` (the modules share the functions' names).
"""
