"""Alembic environment: runs against the engine Chorus hands it (campaigns.storage.db.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from campaigns.config.settings import load_settings
from campaigns.storage.db import make_engine
from campaigns.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    return make_engine(load_settings().database_url)


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
