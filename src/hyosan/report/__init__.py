"""The self-contained HTML report of a run and its animated replay."""

from hyosan.report.page import build_report, write_report

__all__ = ["build_report", "write_report"]
