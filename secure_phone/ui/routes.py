"""Every page of the app, registered in one place (paths and titles: :mod:`secure_phone.ui.paths`)."""

from __future__ import annotations

import reflex as rx

from secure_phone.i18n import MESSAGES
from secure_phone.settings import demo_mode
from secure_phone.ui.i18n import LangState
from secure_phone.ui.pages import advisor as advisor_page
from secure_phone.ui.pages import app as app_page
from secure_phone.ui.pages import demo, demo_messages, landing, web_login, web_secure_phone
from secure_phone.ui.paths import (
    ADVISOR_ROUTE,
    APP_ROUTE,
    AREA_ROUTE,
    DEMO_ROUTE,
    HOME_ROUTE,
    LANDING_ROUTE,
    LOGIN_ROUTE,
    MESSAGES_ROUTE,
    TITLES,
)
from secure_phone.ui.states.web import WebState

# Reflex keeps a tab's token in sessionStorage (« token »), which same-origin frames share with their page: the
# /demo page and its three panes would start on one token and rely on Reflex's duplicate detection to part them.
# With several workers that detection races (two sockets of one token checked on two workers at once: one of
# them is then dropped, and its events are ignored — « no associated token »). A framed document keeps its own
# token under its frame's name instead (« token:demo-web »…: the /demo panes' names only): stable across its
# reloads, nobody else's.
# Inline and first in <head>, so it runs before Reflex's scripts read the token.
FRAME_TOKEN_JS = """(function () {
  try {
    if (window.top === window.self || !/^demo-(web|phone|inbox)$/.test(window.name)) return;
    var own = "token:" + window.name, proto = Storage.prototype;
    var get = proto.getItem, set = proto.setItem, remove = proto.removeItem;
    var mapped = function (storage, key) { return storage === window.sessionStorage && key === "token" ? own : key; };
    proto.getItem = function (key) { return get.call(this, mapped(this, key)); };
    proto.setItem = function (key, value) { return set.call(this, mapped(this, key), value); };
    proto.removeItem = function (key) { return remove.call(this, mapped(this, key)); };
  } catch (e) {}
})();"""


def head() -> list[rx.Component]:
    """What every page's <head> holds: a framed document's own token, the browser-side helpers."""
    return [rx.el.script(FRAME_TOKEN_JS), rx.script(src="/securpass.js"), rx.script(src="/ui.js")]


def _title(route: str) -> str:
    return MESSAGES["fr"][TITLES[route]]  # the page as first sent; the interface's language follows at mount


def register(app: rx.App) -> None:
    app.add_page(landing.page, route=LANDING_ROUTE, title=_title(LANDING_ROUTE), on_load=LangState.sync_html_lang)
    app.add_page(web_login.page, route=LOGIN_ROUTE, title=_title(LOGIN_ROUTE), on_load=WebState.load_login)
    app.add_page(web_secure_phone.page, route=HOME_ROUTE, title=_title(HOME_ROUTE), on_load=WebState.load_home)
    app.add_page(web_secure_phone.page, route=AREA_ROUTE, title=_title(AREA_ROUTE), on_load=WebState.load_home)
    app.add_page(app_page.page, route=APP_ROUTE, title=_title(APP_ROUTE), on_load=app_page.ON_LOAD)
    app.add_page(advisor_page.page, route=ADVISOR_ROUTE, title=_title(ADVISOR_ROUTE), on_load=advisor_page.ON_LOAD)
    if demo_mode():  # demo-only surfaces do not exist otherwise (PRODUCT.md §12.1)
        app.add_page(demo_messages.page, route=MESSAGES_ROUTE, title=_title(MESSAGES_ROUTE),
                     on_load=demo_messages.ON_LOAD)
        app.add_page(demo.page, route=DEMO_ROUTE, title=_title(DEMO_ROUTE), on_load=demo.ON_LOAD)
