"""Saved column mappings for the mapped format: small named profiles in the instance home.

``marsad ingest f.csv --map value=indicator,… --save-profile mylist`` saves a mapping;
``marsad ingest g.csv --profile mylist`` uses it. They live in ``$MARSAD_HOME/profiles.json``.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from marsad.cli import instance
from marsad.formats.mapped import parse_mapping
from marsad.model.errors import MarsadError

FILE_NAME = "profiles.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ProfileError(MarsadError):
    """A profile that cannot be found, named or saved."""


def _path() -> Path:
    return instance.home() / FILE_NAME


def load_all() -> dict[str, dict[str, str]]:
    """Every saved profile: name -> {field: column}."""
    path = _path()
    if not path.is_file():
        return {}
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise ProfileError(f"{path} is not valid JSON; fix or remove it") from None
    return {str(k): {str(f): str(c) for f, c in v.items()} for k, v in data.items()}


def load(name: str) -> dict[str, str]:
    """The mapping saved as ``name``; the error lists the saved ones."""
    profiles = load_all()
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none saved yet"
        raise ProfileError(f"no column-mapping profile {name!r} (profiles: {known})")
    return profiles[name]


def save(name: str, mapping: dict[str, str]) -> Path:
    """Save (or replace) a profile after checking its name and mapping."""
    if not _NAME.match(name):
        raise ProfileError(f"profile names are letters, digits, '_', '.', '-': got {name!r}")
    parse_mapping(",".join(f"{f}={c}" for f, c in mapping.items()))  # same checks as --map
    profiles = load_all()
    profiles[name] = mapping
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(profiles, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return path


def resolve(spec: str | None, profile: str | None, save_as: str | None) -> dict[str, str] | None:
    """The column mapping for one ingest: a profile, overridden by --map; saved if asked."""
    mapping = dict(load(profile)) if profile else {}
    if spec:
        mapping.update(parse_mapping(spec, require_value=not mapping))
    if save_as:
        if not mapping:
            raise ProfileError("--save-profile needs a mapping: give --map (or --profile)")
        save(save_as, mapping)
    return mapping or None
