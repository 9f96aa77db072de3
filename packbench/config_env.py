"""The ``PACKBENCH_*`` environment read into the settings' data, without pydantic-settings.

pydantic-settings cost the start 0.05-0.07 s of imports (#20) for one job: turning environment
variables into the nested data the settings validate. This module does that job the way
pydantic-settings 2.x did it for ``Settings`` (``env_prefix="PACKBENCH_"``,
``env_nested_delimiter="__"``, case-insensitive), so every variable that worked before works
the same:

- ``PACKBENCH_<FIELD>`` sets a top-level field; a field holding a table or a list (``bench``,
  ``ship``) takes JSON, merged with the nested variables below;
- ``PACKBENCH_<FIELD>__<KEY>__…`` sets a nested key, at any depth (dictionaries' keys too,
  ``PACKBENCH_PRINTERS__STATIONS__SHIP__LABEL``); a nested key holding a list or a table takes
  JSON;
- names are case-insensitive and read in lower case (dictionary keys included, as before);
  variables naming no field (``PACKBENCH_CONFIG``, credentials read elsewhere) are not read;
- the environment wins over the explicit values (the file), table by table
  (:func:`deep_update`); the explicit values' top-level names are case-insensitive too.

Two differences, both deliberate: a value that must be JSON and is not is a :class:`EnvError`
naming the variable (pydantic-settings raised its own ``SettingsError`` naming only the
top-level field), and a whole number given for a field of numbered choices
(``PACKBENCH_PACK__SCALE_STOPBITS=2``) is read as that number (pydantic-settings passed the
text on, and the value was refused).
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

PREFIX = "packbench_"
DELIMITER = "__"


class EnvError(ValueError):
    """An environment variable that cannot be read (JSON expected); names the variable."""


def deep_update(mapping: dict[str, Any], *updates: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` with ``updates`` applied over it, table by table (pydantic's own rule)."""
    updated = mapping.copy()
    for update in updates:
        for key, value in update.items():
            if key in updated and isinstance(updated[key], dict) and isinstance(value, dict):
                updated[key] = deep_update(updated[key], value)
            else:
                updated[key] = value
    return updated


def _is_union(origin: Any) -> bool:
    return origin is Union or origin is types.UnionType


def _complex_type(tp: Any) -> bool:
    if not isinstance(tp, type) or issubclass(tp, str | bytes):
        return False
    complex_bases = (BaseModel, Mapping, Sequence, tuple, set, frozenset, deque)
    return issubclass(tp, complex_bases) or dataclasses.is_dataclass(tp)


def is_complex(annotation: Any) -> bool:
    """Whether a value for ``annotation`` is given as JSON (a table, a list, a model)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return is_complex(get_args(annotation)[0])
    if _is_union(origin):
        return any(is_complex(arg) for arg in get_args(annotation))
    return _complex_type(annotation) or _complex_type(origin)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (``X`` or ``X | None``), else None."""
    if _is_union(get_origin(annotation)):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


Target = FieldInfo | Any | None  # a model's field, a raw type (a dictionary's values) or nothing


def _next(target: Target, key: str) -> Target:
    """What ``key`` names inside ``target``: a dictionary's value type, or a model's field
    (found case-insensitively, through unions and generics)."""
    if not target:
        return None
    annotation = target.annotation if isinstance(target, FieldInfo) else target
    origin = get_origin(annotation)
    if isinstance(origin, type) and issubclass(origin, dict):
        args = get_args(annotation)
        return args[-1] if args else None
    for arg in get_args(annotation):
        found = _next(arg, key)
        if found:
            return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if name.lower() == key.lower():
                return field
    return None


def _numbered_choice(field: FieldInfo, value: str) -> Any:
    """``"2"`` for a field of ``Literal[1, 2]`` is the number 2; anything else unchanged."""
    annotation = field.annotation
    if _is_union(get_origin(annotation)):
        return value
    if get_origin(annotation) is Literal and value.isdigit() and value.isascii():
        number = int(value)
        if any(type(choice) is int and choice == number for choice in get_args(annotation)):
            return number
    return value


def _decode(variable: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        raise EnvError(
            f"{variable.upper()}: takes JSON here (a table or a list, e.g. "
            f'\'{{"key": "value"}}\' or \'["a", "b"]\'): {exc}'
        ) from None


def _explode(
    name: str, field: FieldInfo, env: Mapping[str, str], original: Mapping[str, str]
) -> dict[str, Any]:
    """The nested variables of field ``name`` (``packbench_<name>__…``) as nested data."""
    annotation = field.annotation
    origin = get_origin(annotation)
    is_dict = annotation is dict or (isinstance(origin, type) and issubclass(origin, dict))
    prefix = f"{PREFIX}{name}{DELIMITER}"
    result: dict[str, Any] = {}
    for env_name, env_value in env.items():
        if not env_name.startswith(prefix):
            continue
        *keys, last = env_name[len(prefix) :].split(DELIMITER)
        node: Any = result
        target: Target = field
        for key in keys:
            target = _next(target, key)
            if isinstance(node, dict):
                node = node.setdefault(key, {})
        target = _next(target, last)
        value: Any = env_value
        if (target or is_dict) and env_value:
            if isinstance(target, FieldInfo):  # JSON, or for a union (``X | None``) JSON or not
                decode = is_complex(target.annotation)
                tolerant = _is_union(get_origin(target.annotation))
            elif target:  # a dictionary's value type
                decode, tolerant = is_complex(target), True
            else:
                decode, tolerant = True, True
            if decode:
                try:
                    value = json.loads(env_value)
                except ValueError:
                    if not tolerant:
                        value = _decode(original[env_name], env_value)  # raises, naming it
        if isinstance(node, dict):
            if isinstance(target, FieldInfo) and isinstance(value, str):
                value = _numbered_choice(target, value)
            node[last] = value
    return result


def _field_names(annotation: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A model's keys in ``values`` under their fields' own names (matched case-insensitively),
    recursively into nested models."""
    model = _model_of(annotation)
    if model is None:
        return dict(values)
    fields = model.model_fields
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = next((n for n in fields if n.lower() == key.lower()), None)
        if name is None:
            out[key] = value
        elif _model_of(fields[name].annotation) is not None and isinstance(value, dict):
            out[name] = _field_names(fields[name].annotation, value)
        else:
            out[name] = value
    return out


def read_environment(
    model: type[BaseModel], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The ``PACKBENCH_*`` variables of ``environ`` (default: ``os.environ``) that name fields of
    ``model``, as the data to validate."""
    environ = os.environ if environ is None else environ
    original = {name.lower(): name for name in environ}
    env = {name.lower(): value for name, value in environ.items()}
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        direct = env.get(PREFIX + name.lower())
        value: Any
        if is_complex(field.annotation):
            nested = _explode(name.lower(), field, env, original)
            if direct is None:
                value = nested or None
            else:
                try:
                    value = json.loads(direct)
                except ValueError:
                    if not _is_union(get_origin(field.annotation)):  # else: the text as given
                        _decode(original[PREFIX + name.lower()], direct)  # raises, naming it
                    value = direct
                if isinstance(value, dict):
                    value = deep_update(value, nested)
        else:
            value = direct
        if value is None:
            continue
        data[name] = _field_names(field.annotation, value) if isinstance(value, dict) else value
    return data


def field_keys(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """Explicit values with their top-level names matched to ``model``'s fields
    case-insensitively (``[Scanner]`` is ``[scanner]``; of two spellings the first counts);
    names of no field are kept for validation to refuse."""
    out: dict[str, Any] = {}
    used: set[str] = set()
    for name in model.model_fields:
        for key in data:
            if key.lower() == name.lower():
                used.update(k for k in data if k.lower() == name.lower())
                out[name] = data[key]
                break
    out.update({key: value for key, value in data.items() if key not in used})
    return out
