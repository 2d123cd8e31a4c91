"""Validation errors in the scenario's words: the field, what is allowed, and the nearest valid key.

pydantic says "Extra inputs are not permitted" for a mistyped key and "Input should be less than
or equal to 1" for a value out of range. :func:`explain` turns one pydantic error into a message
that names what was given, what is allowed (the keys of that table, the choices, the bounds,
with the field's unit from its description) and, for a typo, the nearest valid key
(:func:`difflib.get_close_matches`): ``--set zombie.bite_prob=0.2`` reads "unknown key 'zombie';
did you mean 'zombies.bite_prob'?".
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (unwrapping Optional, list, dict, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict) or origin is not None:
        args = typing.get_args(annotation)
        if origin is dict and len(args) == 2:
            args = args[1:]
        for arg in args:
            out += _models_in(arg)
    return out


def _resolve(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Walk ``loc`` (all but its last part) through the models, skipping list indices and dict keys."""
    model: type[BaseModel] | None = root
    skip_key = False
    for part in loc[:-1]:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        if skip_key:  # the free key of a dict of models (roles.<name>)
            skip_key = False
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        inner = _models_in(annotation)
        model = inner[0] if inner else None
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        skip_key = origin is dict or any(typing.get_origin(a) is dict for a in args)
    return model


def _keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _suggest(root: type[BaseModel], parent: type[BaseModel], key: str, raw_value: Any) -> str | None:
    """The nearest valid key to ``key`` in ``parent``, with the sub-key that fits when ``raw_value``
    is a table (``zombie = {bite_prob = 0.2}`` -> ``zombies.bite_prob``)."""
    close = difflib.get_close_matches(key, _keys(parent), n=1, cutoff=0.6)
    if not close:
        return None
    best = close[0]
    if isinstance(raw_value, Mapping) and len(raw_value) == 1:
        sub = next(iter(raw_value))
        inner = _models_in(parent.model_fields[best].annotation)
        if inner and str(sub) in inner[0].model_fields:
            return f"{best}.{sub}"
    return best


def _raw_at(raw: Any, loc: tuple[Any, ...]) -> Any:
    node = raw
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _field_info(root: type[BaseModel], loc: tuple[Any, ...]):
    parent = _resolve(root, loc)
    if parent is None or not loc:
        return None
    return parent.model_fields.get(str(loc[-1]))


def _described(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    info = _field_info(root, loc)
    return f" ({info.description})" if info is not None and info.description else ""


def explain(err: Mapping[str, Any], raw: Any, root: type[BaseModel]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a readable message."""
    kind = err.get("type", "")
    loc = tuple(err.get("loc", ()))
    message = str(err.get("msg", "")).removeprefix("Value error, ")
    given = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden" and loc:
        parent = _resolve(root, loc)
        key = str(loc[-1])
        if parent is None:
            return f"unknown key {key!r}"
        hint = _suggest(root, parent, key, _raw_at(raw, loc))
        known = ", ".join(_keys(parent))
        return (
            f"unknown key {key!r}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + f" (valid keys here: {known})"
        )
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        near = difflib.get_close_matches(str(given), expected, n=1, cutoff=0.5)
        return f"{given!r} is not allowed; choose one of {', '.join(expected)}" + (
            f" (did you mean {near[0]!r}?)" if near else ""
        )
    bounds = {
        "greater_than_equal": "at least {ge}",
        "greater_than": "more than {gt}",
        "less_than_equal": "at most {le}",
        "less_than": "less than {lt}",
    }
    if kind in bounds:
        info = _field_info(root, loc)
        parts = []
        if info is not None:
            for meta in info.metadata:
                for attr, word in (
                    ("ge", "at least"),
                    ("gt", "more than"),
                    ("le", "at most"),
                    ("lt", "less than"),
                ):
                    value = getattr(meta, attr, None)
                    if value is not None:
                        parts.append(f"{word} {value:g}")
        allowed = " and ".join(parts) or bounds[kind].format(**ctx)
        return f"must be {allowed}, got {given!r}{_described(root, loc)}"
    if kind == "missing":
        return f"required{_described(root, loc)}"
    if kind in ("float_parsing", "int_parsing", "bool_parsing", "int_from_float", "float_type", "int_type"):
        return f"{message.lower().rstrip('.')}, got {given!r}{_described(root, loc)}"
    return message
