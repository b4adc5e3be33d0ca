"""The app's pages: their paths and their titles (i18n keys), in one place."""

from __future__ import annotations

import json

from secure_phone.i18n import MESSAGES

LANDING_ROUTE = "/"
LOGIN_ROUTE = "/connexion"
HOME_ROUTE = "/espace-client/telephone-securise"
AREA_ROUTE = "/espace-client"
APP_ROUTE = "/app"
ADVISOR_ROUTE = "/conseiller"
MESSAGES_ROUTE = "/demo/messages"
DEMO_ROUTE = "/demo"

TITLES = {
    LANDING_ROUTE: "page.landing",
    LOGIN_ROUTE: "page.login",
    HOME_ROUTE: "page.home",
    AREA_ROUTE: "page.area",
    APP_ROUTE: "page.app",
    ADVISOR_ROUTE: "page.advisor",
    MESSAGES_ROUTE: "page.messages",
    DEMO_ROUTE: "page.demo",
}
"""Each page's title: in French when the page is built, then in the interface's language (:func:`title_script`)."""


def title_script(lang: str) -> str:
    """JavaScript setting the page's ``lang`` and its title in ``lang`` (fr or en)."""
    lang = "en" if lang == "en" else "fr"
    titles = json.dumps({path: MESSAGES[lang][key] for path, key in TITLES.items()})
    return (
        f"document.documentElement.lang = '{lang}';"
        f" {{ const t = {titles}[window.location.pathname.replace(/\\/+$/, '') || '/'];"
        " if (t) document.title = t; }"
    )
