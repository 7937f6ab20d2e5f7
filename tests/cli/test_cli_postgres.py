"""`marsad init --db postgresql+psycopg://…` builds the schema with Alembic and the CLI works on it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from marsad.store import migrate
from tests.cli.test_cli import Marsad
from tests.conftest import PG_URL, need_postgres


@pytest.mark.postgres
def test_cli_on_postgresql(tmp_path: Path) -> None:
    need_postgres()
    name = f"marsad_cli_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    try:
        m = Marsad(tmp_path / "home")
        assert m.json("init", "--db", url)["schema_revision"] == migrate.head_revision()
        # the instance remembers its database: no --db from here on
        m.run("org", "add", "Fiji CCU", "--kind", "national-cyber-unit", "--country", "FJ")
        report = json.loads(
            m.run("ingest", "-", "--source", "Fiji CCU", "--tlp", "red", "--json",
                  stdin=b"203.0.113.5\nhxxp://scam[.]example.net/pay\n").stdout
        )  # fmt: skip
        assert (report["status"], report["accepted"]) == ("ingested", 2)
        found = m.json("search", "scam.example.net")  # only the URL was reported, not the domain
        assert [n["value"] for n in found["normalised"]] == ["scam.example.net", "example.net"]
        assert found["assertions"] == []
        hits = m.json("search", "hxxp://scam[.]example.net/pay")["assertions"]
        assert [(h["value"], h["tlp"]) for h in hits] == [
            ("http://scam.example.net/pay", "TLP:RED")
        ]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
