"""The Sécur'Pass software fallback, bundled into the page that holds the phone (``/app``).

Browsers offer WebCrypto (``crypto.subtle``) only in secure contexts (https, ``http://localhost``).
Stakeholders also open the demo from a phone on the local network over plain HTTP, where it is
missing: ``assets/securpass.js`` then signs with ``p256`` of ``@noble/curves`` (audited, MIT), the
same scheme (ECDSA P-256 / SHA-256, 64-byte r‖s). The package comes from the npm registry through
this component's ``lib_dependencies`` (Reflex installs it at build time). The page module loads it
only where it is needed — a page without WebCrypto — with a dynamic ``import()``, which Vite puts
in a chunk of its own, and exposes it as ``window.__nobleP256`` for the device script (which waits
for it). Everywhere else (https, ``http://localhost``) the page neither downloads nor runs it.

That key is raw bytes in IndexedDB, readable by the page's scripts: weaker than WebCrypto's
non-extractable key, so the component also shows a short notice, on that phone only.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import VarData

from secure_phone.ui.i18n import t

NOBLE_CURVES = "@noble/curves@2.4.0"

_MODE_JS = "securpassMode"
_MODE_HOOK = (
    f"const [{_MODE_JS}, set_{_MODE_JS}] = useState('');\n"
    "useEffect(() => {\n"
    "  let alive = true;\n"
    "  (async () => {\n"
    "    for (let i = 0; i < 100 && !window.SecurPass; i++) await new Promise((r) => setTimeout(r, 50));\n"
    f"    if (alive && window.SecurPass && window.SecurPass.mode) set_{_MODE_JS}(window.SecurPass.mode());\n"
    "  })();\n"
    "  return () => { alive = false; };\n"
    "}, []);"
)

# "webcrypto" | "software" | "none" as seen by assets/securpass.js; "" until it is loaded.
securpass_mode: rx.Var[str] = rx.Var(
    _js_expr=_MODE_JS,
    _var_type=str,
    _var_data=VarData(
        imports={"react": [rx.ImportVar(tag="useState"), rx.ImportVar(tag="useEffect")]},
        hooks={_MODE_HOOK: None},
    ),
)


# The same test as assets/securpass.js's mode(): "webcrypto" needs a secure context and crypto.subtle.
_LOAD_NOBLE = (
    'if (typeof window !== "undefined" && !(window.isSecureContext && window.crypto && window.crypto.subtle)) {\n'
    '  import("@noble/curves/nist.js").then((m) => { window.__nobleP256 = m.p256; },'
    ' (e) => console.error("Sécur\'Pass software fallback not loaded", e));\n'
    "}"
)


class SecurPassSoftware(rx.Fragment):
    """Puts ``p256`` of ``@noble/curves`` on ``window.__nobleP256``, on a page without WebCrypto only."""

    lib_dependencies: list[str] = [NOBLE_CURVES]

    def add_custom_code(self) -> list[str]:
        return [_LOAD_NOBLE]


def software_key_notice() -> rx.Component:
    """Bundle the fallback into this page and, where it is used, say that it is weaker."""
    return SecurPassSoftware.create(
        rx.cond(
            securpass_mode == "software",
            rx.el.p(t("app.securpass.software"), class_name="notice notice-warning securpass-software",
                    role="note", id="securpass-software", margin_top="1rem"),
        ),
    )
