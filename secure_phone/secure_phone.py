"""The Reflex app: pages are registered centrally in :mod:`secure_phone.ui.routes`."""

import reflex as rx

from secure_phone.adapters import models  # noqa: F401  (registers the tables for `reflex db`)
from secure_phone.api import api
from secure_phone.ui import routes, runtime

app = rx.App(
    stylesheets=["/styles.css"],
    head_components=[rx.script(src="/securpass.js"), rx.script(src="/ui.js")],
    html_lang="fr",
    api_transformer=api,
)
routes.register(app)
app.register_lifespan_task(runtime.embedded_dispatcher)
