"""The bare-Reflex floor for the benchmark: one counter state and a one-row SQLite commit."""

import os

import reflex as rx

config = rx.Config(
    app_name="floor",
    db_url=f"sqlite:///{os.environ.get('FLOOR_DATA_DIR', 'data')}/floor.db",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[rx.plugins.SitemapPlugin],
)
