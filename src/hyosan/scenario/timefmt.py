"""Clock times ("08:40", "08:40:12") and durations ("90s", "15min", "6h", "1h30min", 45) in seconds."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|hr|d)", re.IGNORECASE)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DAY = re.compile(r"^day\s*(\d{1,3})\s+(.*)$", re.IGNORECASE)


def parse_duration(value: str | float | int) -> float:
    """Seconds in a duration: a number (seconds) or text such as "90s", "15min", "1h30min"."""
    if isinstance(value, bool):
        raise ValueError("a duration, not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().replace(" ", "")
        if not text:
            raise ValueError("empty duration")
        pos, seconds = 0, 0.0
        for match in _PART.finditer(text):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2).lower()]
            pos = match.end()
        if pos != len(text):
            raise ValueError(f"not a duration: {value!r} (write e.g. '90s', '15min', '6h', '1h30min')")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    return seconds


def parse_clock(value: str) -> float:
    """Seconds since midnight of a clock time "HH:MM" or "HH:MM:SS"."""
    match = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not a clock time: {value!r} (write e.g. '08:40' or '08:40:12')")
    h, m, s = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if h > 23 or m > 59 or s > 59:
        raise ValueError(f"not a clock time: {value!r}")
    return float(h * 3600 + m * 60 + s)


def parse_day_clock(value: str) -> tuple[int | None, float]:
    """A clock time, optionally on a day of the run: "13:40" -> (None, seconds since midnight),
    "day 2 04:00" -> (2, seconds since midnight). Day 1 is the day the run starts."""
    match = _DAY.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None, parse_clock(value)
    day = int(match.group(1))
    if day < 1:
        raise ValueError(f"days count from 1 (the day the run starts): {value!r}")
    return day, parse_clock(match.group(2))


def format_day_clock(seconds: float) -> str:
    """Seconds since midnight of the run's first day as "HH:MM:SS", or "day N HH:MM:SS" from
    the second day on."""
    day = int(round(seconds) // 86400) + 1
    return format_clock(seconds) if day == 1 else f"day {day} {format_clock(seconds)}"


def format_clock(seconds: float) -> str:
    """Seconds since midnight as "HH:MM:SS" (wrapping past midnight)."""
    s = round(seconds) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_duration(seconds: float) -> str:
    """A short human duration: "45s", "12min", "2h05min"."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}min" + (f"{s % 60:02d}s" if s % 60 else "")
    return f"{s // 3600}h" + (f"{s % 3600 // 60:02d}min" if s % 3600 // 60 else "")
