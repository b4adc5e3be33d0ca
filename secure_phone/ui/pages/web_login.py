"""``/connexion``: the web customer area's login."""

from __future__ import annotations

import reflex as rx

from secure_phone.ui.components import web_shell
from secure_phone.ui.flow_views import login_form
from secure_phone.ui.states.web import WebState


def page() -> rx.Component:
    return web_shell(login_form(WebState, WebState.login_and_go))
