"""The Reflex app: pages are registered centrally in :mod:`secure_phone.ui.routes`."""

import reflex as rx

from secure_phone import asgi, settings
from secure_phone.adapters import models  # noqa: F401  (registers the tables for `reflex db`)
from secure_phone.api import api
from secure_phone.ui import routes, runtime

settings.check_startup()  # the scale-out mode refuses to start without its secrets (settings.py)

app = rx.App(
    stylesheets=["/styles.css"],
    head_components=[rx.script(src="/securpass.js"), rx.script(src="/ui.js")],
    html_lang="fr",
    api_transformer=[api, asgi.harden],
)
routes.register(app)
app.register_lifespan_task(runtime.embedded_dispatcher)
app.register_lifespan_task(runtime.inbox_watcher)
