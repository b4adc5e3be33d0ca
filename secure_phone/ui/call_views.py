"""§12.5 « Is my bank calling me? » on screen: the customer's live call status (app home, web « Mes coordonnées »)
and the advisor sheet's « Appel du client » section. Each is its own component, drawn by its page."""

from __future__ import annotations

import reflex as rx

from secure_phone.services.calls import ReportView
from secure_phone.ui.components import error_summary
from secure_phone.ui.i18n import t, t_var
from secure_phone.ui.states.advisor import AdvisorState as A
from secure_phone.ui.states.calls import CallStatus


def _filled(key: str, **values: rx.Var) -> rx.Var:
    """A catalogue text with its ``{placeholders}`` filled from state vars."""
    text: rx.Var = t(key).to(str)
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def call_status(S: type[CallStatus]) -> rx.Component:
    """Whether someone from the bank is calling right now — live, in a polite live region — and the one-tap
    report, with its confirmation in the same region."""
    return rx.el.section(
        rx.heading(t("call.title"), as_="h2", size="4", id="bank-call-title"),
        rx.box(
            rx.cond(
                S.call_open,
                rx.box(
                    rx.text(rx.el.span("☎ ", aria_hidden="true"),
                            rx.el.strong(_filled("call.open", name=S.call_advisor, agency=S.call_agency)),
                            class_name="bank-call-lead"),
                    rx.text(_filled("call.open.since", time=S.call_since), class_name="hint"),
                    rx.text(t("call.open.advice")),
                    on_mount=S.watch_call,
                ),
                rx.text(rx.el.strong(t("call.nobody.lead")), " ", t("call.nobody")),
            ),
            rx.cond(S.call_report_done != "", rx.text(t_var(S.call_report_done), weight="bold")),
            role="status",
            aria_live="polite",
            id="bank-call-status",
        ),
        rx.cond(
            S.call_report_done == "",
            rx.vstack(
                rx.button(t("call.report"), on_click=S.report_call, size="3", variant="outline", color_scheme="red",
                          aria_describedby="bank-call-report-hint", id="bank-call-report"),
                rx.text(t("call.report.hint"), id="bank-call-report-hint", class_name="hint"),
                spacing="1",
                align="start",
            ),
        ),
        class_name=rx.cond(S.call_open, "card bank-call bank-call-open", "card bank-call"),
        aria_labelledby="bank-call-title",
        id="bank-call",
    )


def _report(item: ReportView) -> rx.Component:
    return rx.el.li(
        rx.el.span(item.at, class_name="hint"), " — ",
        rx.cond(item.during_call, _filled("adv.call.reported.during", name=item.advisor_name),
                t("adv.call.reported.none")),
    )


def advisor_call_section() -> rx.Component:
    """The sheet's « Appel du client »: call the customer (their app shows it), hang up; their reports, loudly."""
    return rx.fragment(
        rx.cond(
            A.call_reports.length() > 0,
            rx.box(
                rx.heading(rx.el.span("⚠ ", aria_hidden="true"), t("adv.call.reported.title"), as_="h2", size="5"),
                rx.el.ul(rx.foreach(A.call_reports, _report)),
                rx.text(t("adv.call.reported.advice")),
                class_name="vigilance",
                role="alert",
                id="call-alert",
            ),
        ),
        rx.el.section(
            rx.heading(t("adv.call.title"), as_="h2", size="5"),
            error_summary(A.call_error, "call-button"),
            rx.cond(
                A.call_open,
                rx.vstack(
                    rx.text(rx.cond(A.call_mine, _filled("adv.call.mine", time=A.call_since),
                                    _filled("adv.call.other", name=A.call_by, time=A.call_since)),
                            weight="bold", role="status"),
                    rx.cond(A.call_reported, rx.text(t("adv.call.reported.now"), class_name="field-error")),
                    rx.cond(A.call_mine, rx.button(t("adv.call.end"), on_click=A.end_call, size="3",
                                                   class_name="call-hangup", id="call-button")),
                    spacing="2",
                    align="start",
                ),
                rx.vstack(
                    rx.text(t("adv.call.start.hint"), class_name="hint"),
                    rx.button(t("adv.call.start"), on_click=A.start_call, size="3", class_name="primary",
                              id="call-button"),
                    spacing="2",
                    align="start",
                ),
            ),
            class_name="card",
            aria_label=t("adv.call.title"),
            id="call-section",
        ),
    )
