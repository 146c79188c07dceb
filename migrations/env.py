"""Alembic environment: runs migrations on the engine qidash hands over, or on QIDASH_DB_URL."""

from alembic import context

from qidash import models
from qidash.db import make_engine

target_metadata = models.Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine") or make_engine()
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # The sqlite3 driver runs DDL outside any transaction unless one is begun explicitly, so a
            # migration failing part-way would leave its first steps applied and the version unchanged.
            connection.exec_driver_sql("BEGIN")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
            render_as_batch=True,
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
