"""Pure domain rules of the secure-number change: no I/O, no clock, no framework (docs/architecture.md).

Import from the modules themselves (``secure_phone.domain.phone``, ``…change_request``, ``…eligibility``,
``…securpass``, ``…sms_code``, ``…risk``, ``…policy``).
"""
