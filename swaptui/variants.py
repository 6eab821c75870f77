"""`--set KEY=A,B,...`: a scenario key named by its dotted path and the values to try there.

A key is resolved against the scenario schema, not against the file, so a key the file leaves at
its default (`swap.vswap.lookup_cache`) can be set too. Parts are matched longest first
(`machine.swappiness`, `swap.devices.0.size`, `workloads[1].size`); a list item is named by its index
or by its `name:`. Values are read as YAML scalars, as the file would spell them (`60`, `true`,
`4GiB`, `[64KiB]`), and every point of a grid goes through the scenario's own validation.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import re
import typing
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from swaptui.scenario import Key, Scenario, ScenarioError, _unwrap, format_key, validate_data
from swaptui.text import printable


class SetError(ValueError):
    """A `--set` that cannot be used: one line naming it and what is wrong."""


@dataclass(frozen=True)
class Setting:
    """One `--set`: the key as given, its path in the scenario, and each value as given and as parsed."""

    key: str
    path: Key
    texts: tuple[str, ...]
    values: tuple[Any, ...]

    def shown(self, text: str | None = None) -> str:
        """`--set KEY=A,B` as given, or `--set KEY=A` for one of its values."""
        return printable(f"--set {self.key}={','.join(self.texts) if text is None else text}")


def split_values(text: str) -> list[str]:
    """Split `A,B,C` at the commas outside brackets and quotes, so `[16KiB,64KiB],[]` is two values."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def _parse_value(text: str, shown: str) -> Any:
    """A value as YAML reads it (60 an int, true a bool, 4GiB a string)."""
    try:
        return yaml.safe_load(text) if text else ""
    except yaml.YAMLError as error:
        problem = str(error).splitlines()[0]
        raise SetError(f"{shown}: {text!r} is not a YAML value ({problem})") from None


def resolve_key(key: str, data: dict[str, Any]) -> Key:
    """The scenario path a dotted key names, matched against the schema (longest field name first); list
    items by index or by name. Raise SetError naming the part that matches nothing."""
    parts = [p for p in re.split(r"[.\[\]]+", key) if p]
    if not parts:
        raise SetError("expected KEY=VALUE,... with a scenario key such as machine.swappiness")
    path: list[str | int] = []
    current: Any = Scenario
    node: Any = data
    i = 0
    while i < len(parts):
        current = _unwrap(current)
        where = format_key(tuple(path)) or "the scenario"
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = current.model_fields
            for j in range(len(parts), i, -1):
                name = ".".join(parts[i:j])
                if name in fields:
                    break
            else:
                close = difflib.get_close_matches(parts[i], list(fields), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of: {', '.join(fields)}"
                raise SetError(f"unknown key '{parts[i]}' in {where}{hint}")
            path.append(name)
            current = fields[name].annotation
            node = node.get(name) if isinstance(node, dict) else None
            i = j
        elif typing.get_origin(current) in (tuple, list) and isinstance(node, list) and node:
            part = parts[i]
            names = [item.get("name") for item in node if isinstance(item, dict)]
            if part.isdigit() and int(part) < len(node):
                index = int(part)
            elif part in names:
                index = names.index(part)
            else:
                raise SetError(
                    f"{where} has items 0 to {len(node) - 1} (named {', '.join(str(n) for n in names)}); got '{part}'"
                )
            path.append(index)
            current = typing.get_args(current)[0]
            node = node[index]
            i += 1
        elif typing.get_origin(current) in (tuple, list):
            raise SetError(f"{where} has no items in the file to set a key of; got '{parts[i]}'")
        else:
            raise SetError(f"{where} is a single value; '{'.'.join(parts[i:])}' goes past it")
    return tuple(path)


def parse_set(text: str, data: dict[str, Any]) -> Setting:
    """Read one `--set KEY=A,B,...` against the scenario's data; SetError (one line) if it is malformed."""
    key, sep, values = text.partition("=")
    shown = printable(f"--set {text}")
    if not sep or not key.strip():
        raise SetError(f"{shown}: expected KEY=VALUE[,VALUE...], e.g. --set swap.design=classic,vswap")
    try:
        path = resolve_key(key.strip(), data)
    except SetError as error:
        raise SetError(f"{shown}: {error}") from None
    texts = tuple(split_values(values))
    if any(not t for t in texts):
        raise SetError(f"{shown}: expected a value between every two commas")
    if len(set(texts)) != len(texts):
        raise SetError(f"{shown}: a value is given twice")
    return Setting(key.strip(), path, texts, tuple(_parse_value(t, shown) for t in texts))


def apply(data: dict[str, Any], settings: list[tuple[Key, Any]]) -> dict[str, Any]:
    """A copy of the scenario data with each path set to its value (sections the file left out are made)."""
    out = copy.deepcopy(data)
    for path, value in settings:
        node: Any = out
        for part, following in itertools.pairwise(path):
            if isinstance(part, str) and not isinstance(node.get(part), (dict, list)):
                node[part] = [] if isinstance(following, int) else {}
            node = node[part]
        node[path[-1]] = copy.deepcopy(value)
    return out


def try_settings(data: dict[str, Any], settings: list[tuple[Key, Any]]) -> Scenario | ScenarioError:
    """The scenario with the settings applied, through the scenario's validation, or the error it gave."""
    try:
        return validate_data(apply(data, settings), "--set")
    except ScenarioError as error:
        return error


def describe(error: ScenarioError, shown: str) -> str:
    """A refused point as one line: what was set, then the first problem's key and message."""
    issue = error.issues[0]
    more = f" (and {len(error.issues) - 1} more problems)" if len(error.issues) > 1 else ""
    text = f"{issue.key}: {issue.message}" if issue.key else issue.message
    return printable(f"{shown}: {text}{more}")
