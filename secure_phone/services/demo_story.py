"""The demo's story (demo mode only, ``/demo``): the scenarios a presenter follows, and what happens « behind the
scenes » for the chosen persona — their MySys record and its history, the last audit entries, the advisor's
warnings (« Point de vigilance ») — and the facts that move the story on.

Everything here is what the demo inboxes already show, or less: the number MySys holds (the inboxes name it as a
recipient), the audit trail's actions and outcomes (no address, no browser, no detail), the risk signals. Outside
demo mode every function answers nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from secure_phone import i18n
from secure_phone.adapters.models import AuditEntry, Customer
from secure_phone.domain.phone import phone_from_e164
from secure_phone.personas import PERSONAS
from secure_phone.services.advisor import customer_signals
from secure_phone.services.customers import PARIS
from secure_phone.services.rows import number_holder
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.settings import demo_mode

AUDIT_LINES = 8
"""How many of the persona's last audit entries the pane shows."""
NEW_NUMBER = "07 98 76 54 32"
"""The new number a scenario types, when nobody holds it (a mobile number no persona is seeded with)."""
NEW_NUMBERS = tuple(f"07 98 76 54 {n}" for n in range(32, 52))
"""The next ones, for a demo that goes on: once a scenario made 07 98 76 54 32 someone's secure number, another
customer may not take it (§12.2), nor may its holder « change » to it again."""
PANES = ("web", "phone", "inbox", "behind")
SIM_SWAP_PERSONA = "1000000010"


@dataclass(frozen=True)
class Step:
    """One step of a scenario: the pane to look at, what to do (a catalogue key, its ``{id}``, ``{name}``,
    ``{old}``, ``{new}``, ``{password}`` and ``{code}`` filled in by the page), and the fact that ends it
    (``""``: the presenter moves on with « Étape suivante »)."""

    pane: str
    text: str
    until: str = ""


@dataclass(frozen=True)
class Scenario:
    key: str
    persona: str  # the persona it is told with, by default
    steps: tuple[Step, ...]


def _change(channel: str) -> tuple[Step, ...]:
    """Typing the new number and proving it (§12.3), on the web or in the app."""
    pane = "web" if channel == "web" else "phone"
    return (
        Step(pane, f"demo.step.enter.{channel}", "proof_sent"),
        Step("inbox", f"demo.step.proof.{channel}", "approval_pending"),
    )


_LOGIN_APP = (
    Step("phone", "demo.step.pick", "phone_picked"),
    Step("phone", "demo.step.login.app", "login_app"),
)
_LOGIN_WEB = Step("web", "demo.step.login.web", "login_web")
_AFTER = (
    Step("behind", "demo.step.mysys", ""),
    Step("inbox", "demo.step.notified", ""),
)

SCENARIOS: dict[str, Scenario] = {
    s.key: s for s in (
        Scenario("j1", "1000000001", (*_LOGIN_APP, _LOGIN_WEB, *_change("web"),
                                      Step("phone", "demo.step.approve", "completed"),
                                      Step("web", "demo.step.success.web", ""), *_AFTER)),
        Scenario("j2", "1000000002", (*_LOGIN_APP, *_change("app"),
                                      Step("phone", "demo.step.approve.app", "completed"), *_AFTER)),
        Scenario("j3", "1000000006", (_LOGIN_WEB, *_change("web"),
                                      Step("web", "demo.step.cancel", "cancelled"),
                                      Step("web", "demo.step.ways.out", ""),
                                      Step("behind", "demo.step.cancelled.behind", ""))),
        Scenario("j4", "1000000006", (Step("phone", "demo.step.new.phone", "login_app"),
                                      Step("phone", "demo.step.activation.send", "activation_code_sent"),
                                      Step("inbox", "demo.step.activation.code", "securpass_activated"),
                                      Step("behind", "demo.step.activation.behind", ""),
                                      Step("inbox", "demo.step.activation.notified", ""))),
        Scenario("j7", "1000000007", (Step("web", "demo.step.stale.login", "login_web"),
                                      Step("web", "demo.step.stale.yes", "stale_code_sent"),
                                      Step("inbox", "demo.step.stale.code", "number_confirmed"),
                                      Step("behind", "demo.step.stale.behind", ""))),
        Scenario("f1", "1000000001", (Step("behind", "demo.step.fraud.intro", ""), *_LOGIN_APP,
                                      Step("web", "demo.step.fraud.login", "login_web"),
                                      Step("web", "demo.step.fraud.enter", "proof_sent"),
                                      Step("inbox", "demo.step.fraud.proof", "approval_pending"),
                                      Step("phone", "demo.step.fraud.refuse", "not_me"),
                                      Step("behind", "demo.step.fraud.behind", ""))),
        Scenario("sim", SIM_SWAP_PERSONA, (_LOGIN_WEB, Step("web", "demo.step.sim.enter", "request_refused"),
                                           Step("behind", "demo.step.sim.behind", ""))),
    )
}


def scenarios() -> list[str]:
    """The scenarios of this build: the SIM swap only once its persona is seeded (§12.4's operator signals)."""
    return [key for key in SCENARIOS if key != "sim" or any(p.identifier == SIM_SWAP_PERSONA for p in PERSONAS)]


def personas() -> list[tuple[str, str]]:
    """The cast: (identifier, name) of every persona."""
    return [(p.identifier, f"{p.first_name} {p.last_name}") for p in PERSONAS]


# --- the facts that move a story on ------------------------------------------------------------


def facts_of(entries: list[AuditEntry]) -> set[str]:
    """What happened, in the story's words, from a persona's audit entries (oldest first)."""
    facts: set[str] = set()
    for entry in entries:
        ok = entry.outcome == "ok"
        details = json.loads(entry.details or "{}")
        if entry.action == "login" and ok and entry.channel in ("web", "app"):
            facts.add(f"login_{entry.channel}")
        elif entry.action == "demo_phone_picked" and ok:
            facts.add("phone_picked")
        elif entry.action == "change_requested":
            if ok:
                facts.add("requested")
                if not details.get("proof"):
                    facts.add("approval_pending")  # no proof asked (§12.3's switch off): the phone is asked
            else:
                facts.add("request_refused")
        elif entry.action == "number_entered" and not ok:
            facts.add("request_refused")
        elif entry.action == "operator_check" and entry.outcome == "stopped" and details.get("purpose") == "change":
            facts.add("request_refused")  # §12.4: the operator's signal stopped the change at « Confirmer »
        elif entry.action == "proof_code_sent" and ok:
            facts.add("proof_sent")
        elif entry.action == "new_number_proof" and ok:
            facts.add("approval_pending")
        elif entry.action == "change_completed" and ok:
            facts.update({"approval_pending", "completed"})
        elif entry.action == "change_cancelled" and ok:
            facts.add("cancelled")
        elif entry.action == "fraud_alert":
            facts.add("not_me")
        elif ok and entry.action in ("activation_code_sent", "securpass_activated", "stale_code_sent",
                                     "number_confirmed"):
            facts.add(entry.action)
    if "securpass_activated" in facts:
        facts.add("activation_code_sent")
    return facts


def step_at(scenario: str, position: int, facts: set[str]) -> int:
    """The step to show: from ``position`` (where the presenter moved it) or just after the furthest step whose
    fact already happened (a presenter ahead of the hints, a phone picked up before), whichever is further, then
    past every step whose fact happened too; never beyond the last step."""
    steps = SCENARIOS[scenario].steps
    reached = [i + 1 for i, step in enumerate(steps) if step.until and step.until in facts]
    index = max(0, min(max([position, *reached]), len(steps) - 1))
    while index < len(steps) - 1 and steps[index].until and steps[index].until in facts:
        index += 1
    return index


# --- what the pane shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    number: int
    pane: str
    text: str
    state: str  # done | current | todo


@dataclass(frozen=True)
class HistoryLine:
    at: str
    old: str
    new: str
    source: str  # catalogue key: the channel the change came from


@dataclass(frozen=True)
class AuditLine:
    at: str
    action: str  # catalogue keys
    outcome: str
    channel: str  # catalogue key, "" when none


@dataclass(frozen=True)
class StoryView:
    identifier: str = ""
    name: str = ""
    old: str = ""  # the persona's number when seeded (national), as the hints say it
    mysys_number: str = ""  # what MySys holds now (national, in full: the inboxes name it too)
    mysys_email: str = ""
    mysys_updated: str = ""
    history: list[HistoryLine] = field(default_factory=list)
    audit: list[AuditLine] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)  # catalogue keys (risk.*)
    frozen: bool = False
    steps: list[StepView] = field(default_factory=list)
    step: int = 0
    new: str = NEW_NUMBER  # the new number the hints say to type (national)
    pane: str = ""  # the pane to look at now
    text: str = ""  # what to do now (a catalogue key)
    last: bool = False


def _clock(moment: datetime) -> str:
    """A moment of the demo (today, Paris time), the same in both languages."""
    return moment.astimezone(PARIS).strftime("%H:%M:%S")


def customer_id(uow: UnitOfWork, identifier: str) -> int | None:
    """The persona's customer id (what the page's live subscription follows); None outside demo mode or for
    anyone but a persona."""
    if not demo_mode() or identifier not in {p.identifier for p in PERSONAS}:
        return None
    with uow.read() as session:
        return session.exec(select(Customer.id).where(Customer.identifier == identifier)).first()


def free_number(uow: UnitOfWork, identifier: str) -> str:
    """The new number for a scenario the persona starts now: the first of :data:`NEW_NUMBERS` that is not their
    own and that nobody else holds, is being given or released lately (what « Continuer » would refuse)."""
    if not demo_mode():
        return NEW_NUMBER
    with uow.read() as session:
        customer = session.exec(select(Customer).where(Customer.identifier == identifier)).first()
        if customer is None:
            return NEW_NUMBER
        for national in NEW_NUMBERS:
            e164 = "+33" + national.replace(" ", "")[1:]
            if e164 != customer.secure_phone_e164 and \
                    number_holder(session, e164, customer.id, uow.now, uow.policy) is None:
                return national
    return NEW_NUMBER


def _key(candidate: str, fallback: str) -> str:
    return candidate if candidate in i18n.MESSAGES[i18n.DEFAULT_LANG] else fallback


def _national(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        return phone_from_e164(e164).national
    except ValueError:
        return ""


def story(uow: UnitOfWork, identifier: str, scenario: str, position: int = 0,
          since: datetime | None = None, new: str = "") -> StoryView:
    """The chosen persona's story as the ``/demo`` page shows it (an empty view outside demo mode, or for
    anyone but a persona, or a scenario that does not exist): the scenario's steps, the one to do now (moved
    on by what happened since ``since``), the new number to type (``new``, chosen when the scenario started:
    :func:`free_number`), and the « behind the scenes » facts."""
    persona = next((p for p in PERSONAS if p.identifier == identifier), None)
    if not demo_mode() or persona is None or scenario not in scenarios():
        return StoryView()
    with uow.read() as session:
        customer = session.exec(select(Customer).where(Customer.identifier == identifier)).first()
        if customer is None or customer.id is None:
            return StoryView()
        recent = list(session.exec(select(AuditEntry).where(AuditEntry.customer_id == customer.id)
                                   .order_by(col(AuditEntry.id).desc()).limit(AUDIT_LINES)))
        query = select(AuditEntry).where(AuditEntry.customer_id == customer.id)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        told = list(session.exec(query.order_by(col(AuditEntry.id))))
        signals = customer_signals(session, customer, uow.now)
        frozen = customer.frozen_at is not None
    contact = uow.mysys.get_customer_contact(identifier)
    reader = getattr(uow.mysys, "history", None)  # the simulator's own record of changes
    history = list(reversed(reader(identifier))) if callable(reader) else []
    index = step_at(scenario, position, facts_of(told))
    steps = SCENARIOS[scenario].steps
    return StoryView(
        identifier=identifier,
        name=f"{persona.first_name} {persona.last_name}",
        old=_national(persona.phone),
        mysys_number=_national(contact.secure_phone_e164) if contact else "",
        mysys_email=contact.email if contact else "",
        mysys_updated=_clock(contact.updated_at) if contact else "",
        history=[HistoryLine(_clock(h.applied_at), _national(h.old_e164), _national(h.new_e164),
                             _key(f"channel.{h.source}", "demo.source.other")) for h in history],
        audit=[AuditLine(_clock(e.at), _key(f"tl.{e.action}", "demo.tl.other"),
                         _key(f"result.{e.outcome}", "demo.result.other"),
                         _key(f"channel.{e.channel}", "") if e.channel else "") for e in recent],
        signals=[f"risk.{s.value}" for s in signals],
        frozen=frozen,
        steps=[StepView(i + 1, s.pane, s.text, "done" if i < index else "current" if i == index else "todo")
               for i, s in enumerate(steps)],
        step=index,
        new=new if new in NEW_NUMBERS else NEW_NUMBER,
        pane=steps[index].pane,
        text=steps[index].text,
        last=index == len(steps) - 1,
    )
