"""§5.3: the change flow ends after 5 minutes without a step — the service's rule, and the screens that apply it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from secure_phone.services import change
from secure_phone.ui import runtime
from secure_phone.ui.screens import Screen
from secure_phone.ui.states.customer import ChangeFlow
from tests.integration.helpers import CAMILLE, World, world  # noqa: F401  (fixture)


def test_the_service_says_when_the_flow_has_ended(world: World) -> None:
    step = world.clock.now
    assert not change.flow_timed_out(world.uow(now=step + timedelta(minutes=5)), step)
    assert change.flow_timed_out(world.uow(now=step + timedelta(minutes=5, seconds=1)), step)
    assert not change.flow_timed_out(world.uow(), None)


def _tab(screen: Screen) -> SimpleNamespace:
    tab = SimpleNamespace(screen=screen.value, _last_step=None, outcome="", outcome_kind="", loaded=[], reset=0)
    tab._show = lambda s: setattr(tab, "screen", s.value)
    tab._load_overview = lambda customer_id: tab.loaded.append(customer_id)
    tab._reset_flow = lambda: setattr(tab, "reset", tab.reset + 1)
    return tab


@pytest.mark.parametrize("screen", [Screen.NUMBER, Screen.CONFIRM])
def test_a_step_after_five_idle_minutes_ends_the_flow_on_the_overview(world: World, screen: Screen,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLEX_DB_URL", world.url)
    monkeypatch.setattr(runtime, "now", world.clock)
    principal = SimpleNamespace(id=world.cid(CAMILLE))
    tab = _tab(screen)
    assert ChangeFlow._timed_out(tab, principal) is False  # the first step starts the clock
    world.clock.advance(minutes=4, seconds=59)
    assert ChangeFlow._timed_out(tab, principal) is False  # a step within 5 minutes moves it on
    world.clock.advance(minutes=5, seconds=1)
    assert ChangeFlow._timed_out(tab, principal) is True
    assert (tab.screen, tab.outcome, tab.outcome_kind) == (Screen.OUTCOME.value, "flow.timeout", "warning")
    assert tab.reset == 1
    assert tab.loaded == [principal.id]


def test_outside_the_flow_idle_time_ends_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLEX_DB_URL", world.url)
    monkeypatch.setattr(runtime, "now", world.clock)
    tab = _tab(Screen.OVERVIEW)
    tab._last_step = world.clock.now - timedelta(hours=1)
    assert ChangeFlow._timed_out(tab, SimpleNamespace(id=world.cid(CAMILLE))) is False
    assert tab.screen == Screen.OVERVIEW.value and tab.reset == 0
