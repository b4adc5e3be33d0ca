"""Reflex configuration.

Everything that differs between the embedded default (SQLite, one process) and the
scale-out mode (PostgreSQL + Redis + several workers) comes from environment variables:
Reflex reads ``REFLEX_DB_URL`` and ``REFLEX_REDIS_URL`` itself and they override the
defaults below.
"""

import os
import warnings

import reflex as rx

# Reflex merges the metadata of every registered model; ours all share SQLModel.metadata, so the
# merge only re-finds the same tables. Nothing is lost: silence that one warning.
warnings.filterwarnings("ignore", message=r"Table '.*' already exists within the given MetaData")

DATA_DIR = os.environ.get("SECURE_PHONE_DATA_DIR", "data")

config = rx.Config(
    app_name="secure_phone",
    db_url=f"sqlite:///{DATA_DIR}/secure_phone.db",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", has_background=True)
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
