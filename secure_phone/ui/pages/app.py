"""``/app``: the mobile app, with Sécur'Pass inside it (J2, J5)."""

from __future__ import annotations

import reflex as rx
from reflex.vars import VarData

from secure_phone.ui.call_views import call_status
from secure_phone.ui.components import (
    error_summary,
    expiry_warning,
    field_error,
    fraud_warning,
    idle_warning,
    masked_number,
    message,
    phone_frame,
    title,
    with_catalog,
)
from secure_phone.ui.device_crypto import software_key_notice
from secure_phone.ui.flow_views import (
    activation_help_screen,
    advisor_card,
    advisor_screen,
    code_field,
    confirm_screen,
    login_form,
    number_screen,
    outcome_screen,
    overview_screen,
    proof_screen,
    stale_code_screen,
    stale_screen,
)
from secure_phone.ui.i18n import LangState, phone_of, t
from secure_phone.ui.screens import Screen
from secure_phone.ui.states.app import DEMO, DEVICE_STORAGE_KEY, AppState, PhoneChoiceView


def picker() -> rx.Component:
    """Demo: which phone this browser is (sticks until « Changer de smartphone »)."""

    def choice(option: PhoneChoiceView) -> rx.Component:
        return rx.el.li(
            rx.button(
                rx.cond(option.value == "new", t("picker.new"),
                        rx.cond(option.holder != "", phone_of(option.holder), option.label)),
                on_click=AppState.pick_phone(option.value),
                size="3",
                variant="outline",
                width="100%",
                justify="start",
            )
        )

    return rx.vstack(
        title(t("picker.title")),
        rx.text(t("picker.explain"), class_name="hint"),
        error_summary(AppState.picker_error, "phones"),
        rx.el.ul(rx.foreach(AppState.phone_choices, choice), class_name="phone-list", id="phones"),
        spacing="3",
        align="stretch",
        width="100%",
    )


def preparing() -> rx.Component:
    """Outside demo mode: the app's first start makes this phone's key (no picker)."""
    return rx.vstack(
        rx.center(rx.spinner(size="3"), min_height="20vh"),
        rx.text(t("picker.preparing"), role="status"),
        error_summary(AppState.picker_error, "phones"),
        spacing="3",
        align="center",
        width="100%",
    )


def this_phone() -> rx.Component:
    return rx.hstack(
        rx.text(t("picker.this.phone"), " ", rx.el.strong(rx.cond(
            AppState.device_enrolled,
            rx.cond(AppState.device_holder != "", phone_of(AppState.device_holder), AppState.device_label),
            t("picker.new"))), size="2"),
        *([rx.button(t("picker.change"), on_click=AppState.change_phone, variant="ghost", size="1")] if DEMO else []),
        align="center",
        wrap="wrap",
        class_name="this-phone",
    )


def not_enrolled() -> rx.Component:
    return rx.vstack(
        title(t("app.not.enrolled.title")),
        rx.text(t("app.not.enrolled.body")),
        rx.text(t("overview.contact.advisor"), weight="bold"),
        advisor_card(AppState),
        rx.button(t("logout"), on_click=AppState.logout, variant="outline", size="3"),
        spacing="4",
        align="stretch",
        width="100%",
    )


def activation_intro() -> rx.Component:
    """J4: first connection on a phone that is not enrolled."""
    return rx.vstack(
        title(t("act.title")),
        rx.text(t("act.intro"), " ", masked_number(AppState.masked_first, AppState.masked_last_two, AppState.masked)),
        error_summary(AppState.code_error, "send-activation"),
        rx.button(t("act.send"), on_click=AppState.send_activation_code, size="3", class_name="primary",
                  id="send-activation"),
        rx.button(t("act.not.my.number"), on_click=AppState.not_my_number, size="3", variant="outline"),
        spacing="4",
        align="stretch",
        width="100%",
    )


def activation_code() -> rx.Component:
    return rx.vstack(
        title(t("act.code.title")),
        rx.text(t("act.code.sent"), " ", masked_number(AppState.masked_first, AppState.masked_last_two,
                                                       AppState.masked)),
        error_summary(AppState.code_error, "activation-code"),
        rx.form(
            rx.vstack(
                code_field("activation-code", "act.sms.code", "act.sms.code.hint", AppState.code_error, 8),
                rx.el.label(t("act.pin"), html_for="activation-pin", class_name="label"),
                rx.el.p(t("act.pin.hint"), id="activation-pin-hint", class_name="hint"),
                rx.input(id="activation-pin", name="pin", type="password", input_mode="numeric", max_length=4,
                         auto_complete="new-password", aria_describedby="activation-pin-hint", size="3", width="10rem"),
                rx.button(t("act.submit"), type="submit", size="3", class_name="primary"),
                spacing="2",
                align="start",
            ),
            on_submit=AppState.activate,
            reset_on_submit=True,
        ),
        rx.el.details(
            rx.el.summary(t("act.sign.details")),
            rx.el.pre(AppState.activation_challenge, id="securpass-challenge", class_name="sp-challenge"),
        ),
        rx.button(t("act.resend"), on_click=AppState.send_activation_code, size="2", variant="ghost"),
        rx.button(t("act.not.my.number"), on_click=AppState.not_my_number, size="2", variant="outline"),
        spacing="4",
        align="stretch",
        width="100%",
    )


def approval() -> rx.Component:
    """J5: unmistakably a change of secure number, never a login; the phone signs the text shown."""
    return rx.box(
        rx.text(t("sp.badge"), class_name="sp-badge"),
        title(t("sp.title")),
        rx.text(t("sp.not.login"), class_name="sp-lead"),
        rx.el.dl(
            rx.el.dt(t("sp.new.number")),
            rx.el.dd(AppState.approval_new_number, class_name="sp-number", id="approval-number"),
            rx.el.dt(t("sp.requested.at")),
            rx.el.dd(AppState.approval_requested_at),
            rx.el.dt(t("wait.time.left")),
            rx.el.dd(rx.el.span("5:00", data_countdown_until=AppState.approval_expires_ms, aria_live="off")),
            class_name="sp-facts",
        ),
        expiry_warning(AppState.approval_expires_ms, "expiry.approval"),
        fraud_warning("sp.fraud", "sp.fraud.title"),
        rx.el.details(
            rx.el.summary(t("sp.details")),
            rx.el.pre(AppState.approval_text, id="securpass-challenge", class_name="sp-challenge"),
        ),
        error_summary(AppState.approval_error, rx.cond(AppState.refusing, "reason-not_me", "sp-code")),
        rx.cond(
            AppState.refusing,
            rx.form(
                rx.el.fieldset(
                    rx.el.legend(t("sp.refuse.title"), class_name="label"),
                    *[
                        rx.el.div(
                            rx.el.input(type="radio", name="reason", value=value, id=f"reason-{value}",
                                        default_checked=value == "not_me"),
                            rx.el.label(t(f"sp.refuse.{value}"), html_for=f"reason-{value}"),
                            class_name="radio",
                        )
                        for value in ("not_me", "changed_mind")
                    ],
                ),
                rx.hstack(
                    rx.button(t("sp.refuse.confirm"), type="submit", size="3", class_name="sp-refuse"),
                    rx.button(t("sp.back"), type="button", on_click=AppState.stop_refusal, size="3",
                              class_name="sp-secondary"),
                    spacing="3",
                    wrap="wrap",
                ),
                on_submit=AppState.refuse,
                reset_on_submit=False,
            ),
            rx.form(
                rx.vstack(
                    rx.el.label(t("sp.code"), html_for="sp-code", class_name="label"),
                    rx.el.p(t("sp.code.hint"), id="sp-code-hint", class_name="hint"),
                    field_error(AppState.approval_error, "sp-code"),
                    rx.input(id="sp-code", name="code", type="password", input_mode="numeric", max_length=4,
                             auto_complete="off", aria_describedby="sp-code-hint", size="3", width="10rem",
                             class_name="sp-code"),
                    rx.hstack(
                        rx.button(t("sp.validate"), type="submit", size="3", class_name="sp-validate"),
                        rx.button(t("sp.refuse"), type="button", on_click=AppState.start_refusal, size="3",
                                  class_name="sp-refuse"),
                        spacing="3",
                        wrap="wrap",
                    ),
                    spacing="2",
                    align="start",
                ),
                on_submit=AppState.validate,
                reset_on_submit=True,
            ),
        ),
        class_name="securpass",
    )


def refused() -> rx.Component:
    return rx.vstack(
        with_catalog(title(message(AppState.approval_done))),
        rx.button(t("back.to.details"), on_click=AppState.refused_seen, size="3", variant="outline"),
        spacing="4",
        align="stretch",
        width="100%",
        class_name="notice notice-info",
    )


def logged_in() -> rx.Component:
    return rx.cond(
        AppState.device_mine,
        rx.match(
            AppState.screen,
            (Screen.NUMBER.value, number_screen(AppState)),
            (Screen.CONFIRM.value, confirm_screen(AppState)),
            (Screen.PROOF.value, proof_screen(AppState)),
            (Screen.APPROVAL.value, approval()),
            (Screen.OUTCOME.value, outcome_screen(AppState)),
            (Screen.REFUSED.value, refused()),
            (Screen.ADVISOR.value, advisor_screen(AppState)),
            (Screen.ACTIVATION_HELP.value, activation_help_screen(AppState)),
            (Screen.STALE.value, stale_screen(AppState)),
            (Screen.STALE_CODE.value, stale_code_screen(AppState)),
            rx.vstack(
                overview_screen(AppState),
                call_status(AppState),  # §12.5: is my bank calling me?
                rx.text(t("app.securpass.active"), class_name="hint"),
                width="100%",
            ),
        ),
        rx.cond(
            AppState.device_enrolled,
            not_enrolled(),
            rx.match(
                AppState.screen,
                (Screen.ACTIVATION_CODE.value, activation_code()),
                (Screen.ADVISOR.value, advisor_screen(AppState)),
                activation_intro(),
            ),
        ),
    )


# --- the first screen, before the server has answered ------------------------------------------
#
# The page is prerendered, so the browser paints it as soon as the HTML and the stylesheet are in,
# long before the scripts have run and the websocket hydrate and ``AppState.load`` have answered.
# What the first screen should be is known to the browser alone, from what it holds:
#   "pick"  no phone picked in this browser (``AppState.device_id``, localStorage « sp_device »):
#           the phone picker, whose choices are the seeded personas' (``phone_choices``' default);
#   "login" a phone, in a new tab (no Reflex session token in sessionStorage — Reflex's own key,
#           « token » — so no one can be logged in on it): the login form;
#   "wait"  a phone, in a tab that has a session (a reload: maybe logged in), or English chosen
#           (the prerendered texts are French): the spinner, until the server tells.
# An inline script (first in the page, see ``phone_frame``) computes it before the first paint and
# sets ``data-sp-boot`` on <html>; styles.css shows that screen of the "booting" box (the others are
# display: none); once ``load`` has answered, the box holds the one right screen only. The same
# code runs in a layout effect for a client-side navigation to /app (no HTML parsed then). The
# screen is ``inert`` until React has mounted: a click or a submit before that would be lost, or
# be a native form submission.
BOOT_MODE_JS = (
    "var m = 'wait'; try { m = localStorage.getItem('sp_lang') === 'en' ? 'wait'"
    f" : !localStorage.getItem('{DEVICE_STORAGE_KEY}') ? 'pick'"
    " : sessionStorage.getItem('token') ? 'wait' : 'login'; } catch (e) {}"
    " document.documentElement.setAttribute('data-sp-boot', m);"
)

_MOUNTED_HOOK = "const [spMounted, set_spMounted] = useState(false);\nuseEffect(() => set_spMounted(true), []);"
mounted: rx.Var[bool] = rx.Var(
    _js_expr="spMounted",
    _var_type=bool,
    _var_data=VarData(imports={"react": [rx.ImportVar(tag="useState"), rx.ImportVar(tag="useEffect")]},
                      hooks={_MOUNTED_HOOK: None}),
)
"""True once React has mounted the page (false in the prerendered HTML)."""


class BootScreen(rx.el.Div):
    """The box of the first screen; sets ``data-sp-boot`` again when React mounts it."""

    def add_imports(self) -> dict:
        return {"react": [rx.ImportVar(tag="useLayoutEffect")]}

    def add_hooks(self) -> list[str]:
        return [f"useLayoutEffect(() => {{ {BOOT_MODE_JS} }}, []);"]


def page() -> rx.Component:
    known_phone = AppState.device_checked & (AppState.device_id != "") & (AppState.device_label != "")
    return phone_frame(
        BootScreen.create(
            rx.cond(~known_phone, rx.box(picker() if DEMO else preparing(), class_name="boot-pick")),
            rx.cond(~AppState.device_checked,
                    rx.center(rx.spinner(size="3"), min_height="30vh", class_name="boot-wait")),
            rx.cond(
                ~AppState.device_checked | known_phone,
                rx.vstack(
                    idle_warning(AppState),
                    rx.cond(AppState.logged_in, logged_in(), login_form(AppState, AppState.app_login)),
                    rx.cond(AppState.device_checked, this_phone()),
                    spacing="5",
                    width="100%",
                    class_name="boot-login",
                ),
            ),
            class_name=rx.cond(AppState.device_checked, "app-screen", "app-screen booting"),
            custom_attrs={"inert": ~mounted},
        ),
        software_key_notice(),
        top=rx.cond(AppState.logged_in, rx.button(t("logout"), on_click=AppState.logout, variant="ghost", size="1")),
        on_lang=AppState.refresh_approval,
        boot_js=f"(function () {{ {BOOT_MODE_JS} }})();",
    )


ON_LOAD = [AppState.load, LangState.sync_html_lang]
