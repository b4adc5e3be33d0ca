"""The change of secure number, in three parts that follow it:

* :mod:`.request` — the customer enters the new number, confirms it, may cancel it (J1 steps 2–4, J2);
* :mod:`.approval` — the enrolled phone shows the request, approves or refuses it (J5, §6);
* :mod:`.applying` — MySys, then the completion with its notifications (§7), repaired by the dispatcher.

The row helpers they share with the advisor, the J4 activation and the dispatcher (lock order, who holds a
number, superseding pending requests) are in :mod:`secure_phone.services.rows`.
"""

from secure_phone.domain.change_request import Channel, RefusalReason
from secure_phone.services.change.applying import MYSYS_MAX_ATTEMPTS, complete_change, notify_change, retry_applying
from secure_phone.services.change.approval import (
    NOT_ME_WINDOW,
    ApprovalResult,
    ApprovalView,
    approve,
    pending_approval,
    refuse,
)
from secure_phone.services.change.request import (
    RequestView,
    cancel_request,
    check_new_number,
    flow_timed_out,
    prove_new_number,
    request_status,
    resend_proof_code,
    start_request,
)

__all__ = [
    "MYSYS_MAX_ATTEMPTS", "NOT_ME_WINDOW", "ApprovalResult", "ApprovalView", "Channel", "RefusalReason", "RequestView",
    "approve", "cancel_request", "check_new_number", "complete_change", "flow_timed_out", "notify_change",
    "pending_approval", "prove_new_number", "refuse", "request_status", "resend_proof_code", "retry_applying",
    "start_request",
]
