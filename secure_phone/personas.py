"""The demo's people (PRODUCT.md §3): personas, advisors, agencies and their credentials.

Data only, read by the seed (``python -m secure_phone.seed``, demo mode) and by the demo phone picker
(``services.devices``), which must know the personas' phones before the database answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEMO_PASSWORD = "Demo1234!"
DEMO_CODE = "4827"


@dataclass(frozen=True)
class Persona:
    identifier: str
    first_name: str
    last_name: str
    age: int | None
    phone: str
    person_type: str = "natural"
    emancipated: bool = False
    subscription: str = "particulier"
    legal_protection: str = "none"
    securpass: str = "active"  # active (an enrolled demo phone) | none
    agency: str = "paris-opera"
    advisor: str = "sophie.lambert"
    confirmed_days_ago: int = 30
    # What the simulated mobile operator reports about the secure number (§12.4), relative to the seed's time.
    sim_swapped_hours_ago: int | None = None
    call_forwarding: bool = False

    @property
    def email(self) -> str:
        local = f"{self.first_name.lower()}.{self.last_name.lower().replace(' ', '-')}"
        return local.replace("è", "e").replace("é", "e").replace("ï", "i") + "@example.fr"

    def birth_date(self, today: date) -> date | None:
        """A birthday on 15 January, so that the age is ``age`` on ``today``."""
        if self.age is None:
            return None
        year = today.year - self.age if (today.month, today.day) >= (1, 15) else today.year - self.age - 1
        return date(year, 1, 15)


PERSONAS: tuple[Persona, ...] = (
    Persona("1000000001", "Camille", "Martin", 34, "+33612345678"),
    Persona("1000000002", "Julien", "Petit", 45, "+33623456789", subscription="entrepreneur_individuel"),
    Persona("1000000003", "Inès", "Garnier", 17, "+33634567890", emancipated=True),
    Persona("1000000004", "Léa", "Bernard", 16, "+33645678901"),
    Persona("1000000005", "Hugo", "Moreau", 29, "+33656789012", securpass="none"),
    Persona("1000000006", "Chloé", "Dubois", 38, "+33667890123"),
    Persona("1000000007", "Paul", "Laurent", 61, "+33678901234", confirmed_days_ago=400, advisor="nadia.benali"),
    Persona("1000000008", "SARL", "Atelier Roux", None, "+33689012345", person_type="legal",
            subscription="professionnel", agency="lyon-bellecour", advisor="karim.haddad"),
    Persona("1000000009", "Marc", "Lefèvre", 52, "+33690123456", legal_protection="tutelle", agency="lyon-bellecour",
            advisor="karim.haddad"),
    Persona("1000000010", "Emma", "Leroy", 31, "+33611223344", sim_swapped_hours_ago=2),
    Persona("1000000011", "Lucas", "Fournier", 42, "+33622334455", call_forwarding=True),
)

AGENCIES = (
    dict(code="paris-opera", name="Agence Paris Opéra", phone="01 42 68 00 00",
         hours_fr="du lundi au vendredi, 9 h – 18 h", hours_en="Monday to Friday, 9 am – 6 pm"),
    dict(code="lyon-bellecour", name="Agence Lyon Bellecour", phone="04 78 37 00 00",
         hours_fr="du mardi au samedi, 9 h – 17 h 30", hours_en="Tuesday to Saturday, 9 am – 5.30 pm"),
)

ADVISORS = (
    dict(login="sophie.lambert", first_name="Sophie", last_name="Lambert", agency="paris-opera"),
    dict(login="nadia.benali", first_name="Nadia", last_name="Benali", agency="paris-opera"),
    dict(login="karim.haddad", first_name="Karim", last_name="Haddad", agency="lyon-bellecour"),
)


def phone_label(first_name: str, last_name: str) -> str:
    """The name a phone is stored under once it is someone's Sécur'Pass phone (the app shows it translated,
    ``picker.phone.of``: this stored form is the bank's record, in French)."""
    return f"Smartphone de {first_name} {last_name}"
