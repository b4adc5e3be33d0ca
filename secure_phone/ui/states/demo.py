"""The state of ``/demo`` (demo mode only): which persona and scenario the presenter chose, and where the story is.

It holds no secret: the chosen persona's identifier, the scenario, the step the presenter moved to and the
moment the scenario started. The « behind the scenes » facts are read from the services whenever the page is sent
(a computed var without cache), so they never enter Reflex's state store; the tab is pushed to when the persona's
audit trail or screens change (:func:`secure_phone.ui.runtime.follows_audit`). Any websocket client may send these
events with any arguments: each one acts only in demo mode, only on this tab's own choice, and writes nothing of
the bank's (a live subscription of this tab at most).
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from secure_phone.services import demo_story, live
from secure_phone.services.demo_story import StoryView
from secure_phone.services.inputs import key
from secure_phone.settings import demo_mode
from secure_phone.ui import runtime


@runtime.follows_audit
class DemoState(rx.State):
    persona: str = ""  # the chosen persona's identifier ("" until a scenario starts)
    scenario: str = ""
    position: int = 0  # the step the presenter moved to (the story may be further: what happened moves it on)
    since: str = ""  # when the scenario started (ISO, UTC): what happened before is not part of the story
    new_number: str = ""  # the new number the hints say to type, free when the scenario started
    persona_choice: str = ""  # the choosers, before « Commencer »
    scenario_choice: str = ""
    version: int = 0  # moved by an event or a push: the page is sent again

    @rx.var(cache=False)
    def story(self) -> StoryView:
        if not demo_mode() or not self.version or not self.scenario:
            return StoryView()
        since = datetime.fromisoformat(self.since) if self.since else None
        return demo_story.story(runtime.uow(), self.persona, self.scenario, self.position, since, self.new_number)

    def _follow(self) -> None:
        """This tab follows the chosen persona (its pushes), or nobody."""
        token, name = self.router.session.client_token, self.get_full_name()
        if not token:
            return
        customer_id = demo_story.customer_id(runtime.uow(), self.persona) if self.persona else None
        if customer_id is None:
            live.unsubscribe(runtime.uow(), token, name)
        else:
            live.subscribe(runtime.uow(), token, name, customer_id)

    @rx.event
    def load(self) -> None:
        """On load: the page as it is (and the choosers' defaults)."""
        if not demo_mode():
            return
        if not self.scenario_choice:
            first = demo_story.scenarios()[0]
            self.scenario_choice, self.persona_choice = first, demo_story.SCENARIOS[first].persona
        self.version += 1
        if self.scenario:
            self._follow()

    @rx.event
    def suggest(self, value: str) -> None:
        """The scenario chooser changed: the persona it is told with is suggested."""
        scenario = key(value, 20)
        if not demo_mode() or scenario not in demo_story.scenarios():
            return
        self.scenario_choice, self.persona_choice = scenario, demo_story.SCENARIOS[scenario].persona

    @rx.event
    def pick_persona(self, value: str) -> None:
        persona = key(value, 20)
        if demo_mode() and persona in {p for p, _ in demo_story.personas()}:
            self.persona_choice = persona

    @rx.event
    def start(self, form: dict | None = None) -> None:
        """« Commencer »: the chosen scenario, from its first step, told with the chosen persona."""
        if not demo_mode() or not isinstance(form, dict):
            return
        scenario, persona = key(form.get("scenario"), 20), key(form.get("persona"), 20)
        if scenario not in demo_story.scenarios() or persona not in {p for p, _ in demo_story.personas()}:
            return
        self.scenario, self.persona, self.position = scenario, persona, 0
        self.scenario_choice, self.persona_choice = scenario, persona
        self.since = runtime.now().isoformat()
        self.new_number = demo_story.free_number(runtime.uow(), persona)
        self.version += 1
        self._follow()

    def _move(self, by: int) -> None:
        if not demo_mode() or not self.scenario:
            return
        current = self.story.step
        self.position = max(0, min(current + by, len(demo_story.SCENARIOS[self.scenario].steps) - 1))
        self.version += 1

    @rx.event
    def next_step(self) -> None:
        self._move(1)

    @rx.event
    def previous_step(self) -> None:
        """One step back (the story moves on again by itself once what that step waits for happens)."""
        if not demo_mode() or not self.scenario:
            return
        self.position = max(0, self.story.step - 1)
        self.since = runtime.now().isoformat()  # what happened no longer moves the story past that step
        self.version += 1

    @rx.event
    def restart(self) -> None:
        if not demo_mode() or not self.scenario:
            return
        self.position = 0
        self.since = runtime.now().isoformat()
        self.new_number = demo_story.free_number(runtime.uow(), self.persona)  # the last run may have taken it
        self.version += 1

    def _on_push(self) -> None:
        """The persona's audit trail or screens changed (another tab's event, the dispatcher)."""
        if demo_mode() and self.scenario:
            self.version += 1
