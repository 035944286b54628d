"""Throwaway PostgreSQL schemas, so tests and benchmarks never touch anyone's tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from storage.db import normalise_url


@contextmanager
def scratch_schema(url: str, prefix: str = "pulsebot_scratch") -> Iterator[str]:
    """A URL of the same database whose search_path is a new empty schema, dropped after."""
    base = normalise_url(url)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        scoped = base.update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield scoped.render_as_string(hide_password=False)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
