"""The screens a page can show: one name each, so that a state and its page cannot disagree on a spelling."""

from __future__ import annotations

from enum import Enum


class Screen(str, Enum):
    """The customer's screens (web area and app; some are the app's only)."""

    OVERVIEW = "overview"  # « Mes coordonnées »
    NUMBER = "number"  # step 2: the new number
    CONFIRM = "confirm"  # step 3: the confirmation
    PROOF = "proof"  # §12.3: the code sent to the new number
    WAIT = "wait"  # step 4 (web): waiting for the phone
    APPROVAL = "approval"  # J5 (app): the Sécur'Pass approval
    OUTCOME = "outcome"  # the end of a change: success, cancelled, expired…
    REFUSED = "refused"  # J5 (app): the request refused on the phone
    ADVISOR = "advisor"  # J6: the advisor and the call-back
    ACTIVATION_HELP = "activation_help"  # J3: how to activate Sécur'Pass on a new phone
    ACTIVATION = "activation"  # J4 (app): first connection on a new phone
    ACTIVATION_CODE = "activation_code"  # J4 (app): the SMS code and the new Sécur'Pass code
    STALE = "stale"  # J7: is the number still the right one?
    STALE_CODE = "stale_code"  # J7: the code sent to it


class AdvisorScreen(str, Enum):
    HOME = "home"  # search, call-back queue, validations
    SHEET = "sheet"  # one customer's sheet


FLOW = (Screen.NUMBER, Screen.CONFIRM)
"""The screens of the change flow that end after ``policy.flow_inactivity_timeout`` without activity."""
