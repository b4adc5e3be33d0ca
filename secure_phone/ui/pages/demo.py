"""``/demo`` (demo mode only): the whole story on one screen, 1280 pixels wide and up.

The panes are the real pages, framed from the same origin — the web customer area, the smartphone (``/app``), the
inboxes (``/demo/messages``) — each with its own tab, session and flow, pushed to like any other tab; next to them,
« behind the scenes »: the chosen persona's MySys record and its history, their last audit entries and what the
advisor's sheet warns about, pushed to when that persona's audit trail or screens change. A persona and scenario
chooser tells the presenter what to do next and highlights the pane to look at; the story moves on by itself
from what happened, or with « Étape suivante ». On a smaller screen the page says to open ``/app`` instead.
"""

from __future__ import annotations

import reflex as rx

from secure_phone.personas import DEMO_CODE, DEMO_PASSWORD
from secure_phone.services import demo_story
from secure_phone.services.demo_story import AuditLine, HistoryLine, StepView
from secure_phone.ui.components import brand, skip_link
from secure_phone.ui.i18n import LangState, lang_switch, t, t_var
from secure_phone.ui.paths import APP_ROUTE, LOGIN_ROUTE, MESSAGES_ROUTE
from secure_phone.ui.states.demo import DemoState as S

NBSP = "\u00a0"  # a number is never cut at the end of a line


def _filled(text: rx.Var) -> rx.Var:
    """A hint with the story's people and credentials in it."""
    return (text.to(str).replace("{id}", S.story.identifier).replace("{name}", S.story.name)
            .replace("{old}", S.story.old.to(str).replace(" ", NBSP))
            .replace("{new}", S.story.new.to(str).replace(" ", NBSP))
            .replace("{password}", DEMO_PASSWORD).replace("{code}", DEMO_CODE))


_NOT_LIVE = ~rx.State.is_hydrated
"""Until the page is live (its state loaded), a choice would be lost or undone by the load: the chooser waits."""


def _chooser() -> rx.Component:
    return rx.el.form(
        rx.el.div(
            rx.el.label(t("demo.scenario"), html_for="demo-scenario", class_name="label"),
            rx.el.select(
                *[rx.el.option(t(f"demo.scenario.{key}"), value=key) for key in demo_story.scenarios()],
                id="demo-scenario", name="scenario", value=S.scenario_choice, on_change=S.suggest, disabled=_NOT_LIVE,
                class_name="native-select demo-select",
            ),
            class_name="demo-field",
        ),
        rx.el.div(
            rx.el.label(t("demo.persona"), html_for="demo-persona", class_name="label"),
            rx.el.select(
                *[rx.el.option(f"{name} · {identifier}", value=identifier)
                  for identifier, name in demo_story.personas()],
                id="demo-persona", name="persona", value=S.persona_choice, on_change=S.pick_persona, disabled=_NOT_LIVE,
                class_name="native-select demo-select",
            ),
            class_name="demo-field",
        ),
        rx.button(t("demo.start"), type="submit", size="3", class_name="primary", disabled=_NOT_LIVE),
        on_submit=S.start,
        class_name="demo-chooser",
        aria_label=t("demo.title"),
    )


def _moves() -> rx.Component:
    return rx.cond(
        S.story.identifier != "",
        rx.el.div(
            rx.button(t("demo.previous"), on_click=S.previous_step, variant="outline", size="2",
                      disabled=S.story.step == 0),
            rx.button(t("demo.next"), on_click=S.next_step, size="2", class_name="primary", disabled=S.story.last),
            rx.button(t("demo.restart"), on_click=S.restart, variant="outline", size="2"),
            class_name="demo-moves",
        ),
    )


def _step(step: StepView) -> rx.Component:
    return rx.el.li(
        rx.el.span(step.number, class_name="step-dot", aria_hidden="true"),
        rx.el.span(_filled(t_var(step.text))),
        rx.cond(step.state == "done", rx.el.span(" (", t("demo.step.done"), ")", class_name="hint")),
        class_name="demo-step " + step.state,
        aria_current=rx.cond(step.state == "current", "step", "false"),
    )


def _story() -> rx.Component:
    return rx.el.section(
        rx.cond(
            S.story.identifier != "",
            rx.fragment(
                rx.el.div(
                    rx.el.p(
                        rx.el.strong(t("demo.step.now"), " · ", t("demo.step.of"), " ", S.story.step + 1, "/",
                                     S.story.steps.length(), " · ", t_var("demo.pane." + S.story.pane)),
                        class_name="demo-where",
                    ),
                    rx.el.p(_filled(t_var(S.story.text)), id="demo-hint", class_name="demo-hint"),
                    rx.el.p(_filled(t("demo.credentials")), class_name="hint demo-credentials"),
                    rx.cond(S.story.last, rx.el.p(t("demo.the.end"), class_name="hint")),
                    role="status",
                    aria_live="polite",
                    class_name="demo-now",
                ),
                _moves(),
                rx.el.details(
                    rx.el.summary(t("demo.steps")),
                    rx.el.ol(rx.foreach(S.story.steps, _step), class_name="demo-steps"),
                    class_name="demo-all-steps",
                ),
            ),
            rx.el.p(t("demo.choose.hint"), class_name="hint"),
        ),
        class_name="demo-story",
        aria_labelledby="demo-story-title",
    )


def _pane(name: str, *children: rx.Component) -> rx.Component:
    current = S.story.pane == name
    return rx.el.section(
        rx.el.header(
            rx.heading(t(f"demo.pane.{name}"), as_="h2", size="3", id=f"pane-{name}-title"),
            rx.cond(current, rx.el.span("▶ ", t("demo.look"), class_name="demo-look")),
            class_name="demo-pane-bar",
        ),
        *children,
        class_name=rx.cond(current, f"demo-pane demo-pane-{name} demo-pane-current", f"demo-pane demo-pane-{name}"),
        aria_labelledby=f"pane-{name}-title",
        id=f"pane-{name}",
    )


def _frame(name: str, src: str) -> rx.Component:
    return rx.el.iframe(src=src, title=t(f"demo.frame.{name}"), name=f"demo-{name}", class_name=f"demo-frame-{name}")


def _history(line: HistoryLine) -> rx.Component:
    return rx.el.li(rx.el.span(line.at, class_name="hint"), " ", rx.el.span(line.old, class_name="number"), " ",
                    t("demo.history.arrow"), " ", rx.el.span(line.new, class_name="number"), " · ",
                    t_var(line.source))


def _audit(line: AuditLine) -> rx.Component:
    return rx.el.li(rx.el.span(line.at, class_name="hint"), " ", rx.el.strong(t_var(line.action)), " · ",
                    t_var(line.outcome), rx.cond(line.channel != "", rx.el.span(" · ", t_var(line.channel))))


def _behind() -> rx.Component:
    story = S.story
    return rx.cond(
        story.identifier != "",
        rx.el.div(
            rx.el.section(
                rx.heading(t("demo.mysys"), as_="h3", size="2"),
                rx.cond(
                    story.mysys_number != "",
                    rx.el.dl(
                        rx.el.dt(t("demo.mysys.number")),
                        rx.el.dd(story.mysys_number, class_name="number", id="mysys-number"),
                        rx.el.dt(t("demo.mysys.email")), rx.el.dd(story.mysys_email),
                        rx.el.dt(t("demo.mysys.updated")), rx.el.dd(story.mysys_updated),
                        class_name="demo-facts",
                    ),
                    rx.el.p(t("demo.mysys.none")),
                ),
                rx.heading(t("demo.history"), as_="h3", size="2"),
                rx.cond(story.history.length() == 0, rx.el.p(t("demo.history.none"), class_name="hint"),
                        rx.el.ul(rx.foreach(story.history, _history), class_name="demo-lines", id="mysys-history")),
                class_name="demo-block",
            ),
            rx.el.section(
                rx.heading(t("demo.advisor"), as_="h3", size="2"),
                rx.cond(
                    story.signals.length() > 0,
                    rx.el.div(
                        rx.el.p(rx.el.span("⚠ ", aria_hidden="true"), rx.el.strong(t("adv.vigilance"))),
                        rx.el.ul(rx.foreach(story.signals, lambda s: rx.el.li(t_var(s)))),
                        class_name="vigilance demo-vigilance",
                        id="demo-vigilance",
                    ),
                    rx.el.p(t("demo.advisor.none"), class_name="hint"),
                ),
                rx.cond(story.frozen, rx.el.p(t("demo.advisor.frozen"), class_name="field-error")),
                class_name="demo-block",
            ),
            rx.el.section(
                rx.heading(t("demo.audit"), as_="h3", size="2"),
                rx.cond(story.audit.length() == 0, rx.el.p(t("demo.audit.none"), class_name="hint"),
                        rx.el.ol(rx.foreach(story.audit, _audit), class_name="demo-lines", id="demo-audit")),
                class_name="demo-block",
            ),
            class_name="demo-behind",
            tab_index=0,  # it scrolls: reachable with the keyboard
        ),
        rx.el.p(t("demo.choose.hint"), class_name="hint"),
    )


def _small_screen() -> rx.Component:
    """What a phone-sized screen shows instead (CSS: below 1280 pixels wide)."""
    return rx.el.div(
        rx.heading(t("demo.small.title"), as_="h2", size="5"),
        rx.el.p(t("demo.small.text")),
        rx.link(t("demo.small.link"), href=APP_ROUTE, class_name="demo-app-link"),
        class_name="demo-small card",
    )


def page() -> rx.Component:
    return rx.box(
        skip_link(),
        rx.el.header(
            rx.link(brand(), href="/", underline="none", color="inherit"),
            rx.heading(t("demo.title"), as_="h1", size="4", id="demo-story-title"),
            rx.el.p(t("demo.intro"), class_name="hint demo-intro"),
            lang_switch(),
            class_name="demo-header",
        ),
        rx.el.main(
            _small_screen(),
            rx.el.div(
                rx.el.div(_chooser(), _story(), class_name="demo-top"),
                rx.el.div(
                    _pane("web", _frame("web", LOGIN_ROUTE)),
                    _pane("phone", rx.el.div(_frame("phone", APP_ROUTE), class_name="demo-bezel")),
                    rx.el.div(
                        _pane("inbox", _frame("inbox", MESSAGES_ROUTE)),
                        _pane("behind", _behind()),
                        class_name=rx.cond(S.story.pane == "behind", "demo-side demo-side-behind", "demo-side"),
                    ),
                    class_name="demo-panes",
                ),
                class_name="demo-wide",
            ),
            id="main",
            tab_index=-1,
        ),
        on_mount=LangState.sync_html_lang,
        class_name="demo-page",
    )


ON_LOAD = [S.load, LangState.sync_html_lang]
