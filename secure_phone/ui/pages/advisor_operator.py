"""The advisor's sheet, its own section (§12.4): what the mobile operator said about the customer's numbers, the
call-forwarding check before a call-back (« Être rappelé »), and, in demo mode only, the demo control that makes
the simulated operator report a SIM change or a forwarding on any number."""

from __future__ import annotations

import reflex as rx

from secure_phone.services.operator import AnswerView
from secure_phone.settings import demo_mode
from secure_phone.ui.components import notice
from secure_phone.ui.i18n import t, t_var
from secure_phone.ui.states.advisor import AdvisorState as S


def _answer(item: AnswerView) -> rx.Component:
    summary = t_var(item.summary).to(str).replace("{n}", item.n)
    return rx.el.li(
        rx.text(rx.el.strong(summary), " · ", t_var("op.subject." + item.subject), " ", item.number,
                rx.cond(item.error != "", rx.el.span(" · ", item.error))),
        rx.text(t("op.by"), " ", item.operator, " · ", item.at, " · ", t_var("op.purpose." + item.purpose), " · ",
                t("op.latency"), " ", item.latency_ms, " · ", t("op.correlator"), " ", item.correlator,
                class_name="hint"),
        class_name=rx.cond((item.summary == "op.sim.changed.hours") | (item.summary == "op.fwd.active")
                           | (item.summary == "op.kyc.mismatch") | (item.summary == "op.recycled.yes"),
                           "event alert", "event"),
    )


def callback_check() -> rx.Component:
    """Before calling back: the forwarding warning, prominent (an alert), or that there is none."""
    return rx.box(
        rx.heading(t("op.callback.title"), as_="h3", size="4"),
        rx.cond(
            S.callback_checked,
            rx.cond(
                S.callback_forwarded,
                notice("error", rx.text(rx.el.strong(t("op.callback.forwarded"))),
                       rx.text(t("op.callback.checked"), " ", S.callback_at, " · ", S.callback_operator,
                               class_name="hint"), role="alert", id="callback-forwarded"),
                rx.cond(S.callback_unknown,
                        notice("warning", rx.text(t("op.callback.unknown")), role="alert"),
                        notice("success", rx.text(t("op.callback.clear")),
                               rx.text(t("op.callback.checked"), " ", S.callback_at, " · ", S.callback_operator,
                                       class_name="hint"), role="status")),
            ),
        ),
        rx.button(t("op.callback.check"), on_click=S.check_forwarding, size="2", variant="outline"),
        class_name="callback-check",
    )


def demo_control() -> rx.Component:
    """Demo mode only: absent from the page otherwise (and its handler refuses)."""
    if not demo_mode():
        return rx.fragment()
    return rx.el.details(
        rx.el.summary(t("demo.op.title")),
        rx.text(t("demo.op.intro"), class_name="hint"),
        rx.form(
            rx.vstack(
                rx.el.label(t("demo.op.number"), html_for="demo-op-number", class_name="label"),
                rx.input(id="demo-op-number", name="number", max_length=32, size="2", input_mode="tel"),
                rx.el.label(t("demo.op.kind"), html_for="demo-op-signal", class_name="label"),
                rx.el.select(
                    rx.el.option(t("demo.op.sim_swap"), value="sim_swap"),
                    rx.el.option(t("demo.op.forwarding"), value="forwarding"),
                    rx.el.option(t("demo.op.forwarding_off"), value="forwarding_off"),
                    rx.el.option(t("demo.op.recycled"), value="recycled"),
                    id="demo-op-signal", name="signal",
                ),
                rx.button(t("demo.op.submit"), type="submit", size="2", variant="outline"),
                rx.cond(S.demo_signal_result != "",
                        notice("success", rx.text(t("demo.op.done"), " ", S.demo_signal_result), role="status")),
                rx.cond(S.demo_signal_error != "",
                        notice("warning", rx.text(t_var(S.demo_signal_error)), role="alert")),
                spacing="2",
                align="start",
            ),
            on_submit=S.demo_signal,
            reset_on_submit=False,
        ),
        class_name="demo-control",
    )


def operator_section() -> rx.Component:
    return rx.el.section(
        rx.heading(t("op.title"), as_="h2", size="5"),
        callback_check(),
        rx.cond(S.operator_answers.length() == 0, rx.text(t("op.none"))),
        rx.el.ul(rx.foreach(S.operator_answers, _answer), class_name="timeline", id="operator-answers"),
        demo_control(),
        class_name="card",
        aria_label=t("op.title"),
        id="operator-signals",
    )
