"""The Reflex app, assembled: the pages (:mod:`secure_phone.ui.routes`), the API, the HTTP edge, the live refresh
of the open tabs and, in the embedded mode, the notification dispatcher."""

import reflex as rx

from secure_phone import asgi, dispatcher, settings
from secure_phone.adapters import db, models  # noqa: F401  (registers the tables for `reflex db`)
from secure_phone.api import api
from secure_phone.ui import routes, runtime
from secure_phone.ui.paths import TITLES

settings.check_startup()  # the scale-out mode refuses to start without its secrets (settings.py)

app = rx.App(
    stylesheets=["/styles.css"],
    head_components=routes.head(),
    html_lang="fr",
    api_transformer=[api, asgi.pages_at_their_address(TITLES), asgi.harden],
)
routes.register(app)
runtime.install(app, db.default_url())
app.register_lifespan_task(dispatcher.embedded)
