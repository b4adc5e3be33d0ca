"""Every page of the app, registered in one place."""

from __future__ import annotations

import reflex as rx

from secure_phone.settings import demo_mode
from secure_phone.ui.i18n import LangState
from secure_phone.ui.pages import advisor as advisor_page
from secure_phone.ui.pages import app as app_page
from secure_phone.ui.pages import demo_messages, landing, web_login, web_secure_phone
from secure_phone.ui.states.web import HOME_ROUTE, LOGIN_ROUTE, WebState

TITLE = "Ma Banque — téléphone mobile sécurisé"


def register(app: rx.App) -> None:
    app.add_page(landing.page, route="/", title=TITLE, on_load=LangState.sync_html_lang)
    app.add_page(web_login.page, route=LOGIN_ROUTE, title="Connexion — Ma Banque", on_load=WebState.load_login)
    app.add_page(web_secure_phone.page, route=HOME_ROUTE, title="Téléphone mobile sécurisé — Ma Banque",
                 on_load=WebState.load_home)
    app.add_page(web_secure_phone.page, route="/espace-client", title="Espace client — Ma Banque",
                 on_load=WebState.load_home)
    app.add_page(app_page.page, route="/app", title="Application Ma Banque", on_load=app_page.ON_LOAD)
    app.add_page(advisor_page.page, route="/conseiller", title="Espace conseiller — Ma Banque",
                 on_load=advisor_page.ON_LOAD)
    if demo_mode():  # demo-only surfaces do not exist otherwise (PRODUCT.md §12.1)
        app.add_page(demo_messages.page, route="/demo/messages", title="Messages reçus (démo)",
                     on_load=demo_messages.ON_LOAD)
