import sqlalchemy
from sqlmodel import SQLModel

from secure_phone.adapters import db, models  # noqa: F401  (the tables)


def test_migration_chain_creates_every_table(db_url: str) -> None:
    names = set(sqlalchemy.inspect(db.get_engine(db_url)).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= names
    assert "alembic_version" in names
