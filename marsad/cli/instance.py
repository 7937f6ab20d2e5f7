"""Where the instance lives: MARSAD_HOME (default ./var) and its database URL."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from marsad.store.engine import sqlite_url
from marsad.store.store import Store

CONFIG_NAME = "marsad.json"


def home() -> Path:
    """The instance directory: $MARSAD_HOME, else ./var."""
    return Path(os.environ.get("MARSAD_HOME") or "var").absolute()


def default_url() -> str:
    """The embedded default: a SQLite file in the instance directory."""
    return sqlite_url(home() / "marsad.db")


def configured_url(override: str | None = None) -> str:
    """The database URL: --db, then $MARSAD_DB, then the instance config, then the default."""
    if override:
        return override
    if os.environ.get("MARSAD_DB"):
        return os.environ["MARSAD_DB"]
    config = home() / CONFIG_NAME
    if config.exists():
        return str(orjson.loads(config.read_bytes())["db"])
    return default_url()


def save_url(url: str) -> Path:
    """Remember the instance's database URL in its config file."""
    path = home() / CONFIG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps({"db": url}, option=orjson.OPT_INDENT_2))
    return path


def open_store(override: str | None = None, *, create: bool = False) -> Store:
    """Open the configured instance."""
    return Store.open(configured_url(override), create=create)


def display_url(url: str) -> str:
    """A URL safe to print: the password is masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
