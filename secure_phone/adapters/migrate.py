"""Bring a database to the head of the Alembic chain (the one ``reflex db migrate`` applies)."""

from __future__ import annotations

from pathlib import Path

import alembic.config
import alembic.script
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep

from secure_phone.adapters.db import get_engine

ROOT = Path(__file__).resolve().parents[2]


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Apply every pending migration to ``url`` (default: the app's database), up to ``revision``."""
    config = alembic.config.Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    script = alembic.script.ScriptDirectory.from_config(config)

    def upgrade(rev: tuple[str, ...], _context: MigrationContext) -> list[RevisionStep]:
        # Alembic passes the database's current heads (a tuple); `_upgrade_revs` annotates them `str`.
        return script._upgrade_revs(revision, rev)  # type: ignore[arg-type]

    with get_engine(url).connect() as connection:
        with EnvironmentContext(config, script, fn=upgrade) as env:
            env.configure(connection=connection)
            with env.begin_transaction():
                env.run_migrations()
        connection.commit()
