"""Alembic environment: runs migrations on the engine qidash hands over, or on QIDASH_DB_URL."""

from alembic import context

from qidash import models
from qidash.db import make_engine

target_metadata = models.Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine") or make_engine()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
            render_as_batch=True,
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
