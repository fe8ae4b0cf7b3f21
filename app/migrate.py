"""Run Alembic from code, so ``congvan migrate``, the demo and the tests share one path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be escaped for ConfigParser interpolation.
    cfg.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    return cfg


def upgrade_to_head(settings: Settings) -> None:
    if settings.resolved_database_url.startswith("sqlite"):
        settings.ensure_data_dir()
    command.upgrade(alembic_config(settings), "head")
