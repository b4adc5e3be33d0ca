"""The one translation layer: every visible string, French (default) and English.

Keys are stable identifiers; the UI renders them through :mod:`secure_phone.ui.i18n`, the
notifications through :func:`text`. French typography is applied to the French catalogue
(no-break space before « : », narrow no-break space before « ; ! ? »).
"""

from __future__ import annotations

import re
from typing import Any

LANGS = ("fr", "en")
DEFAULT_LANG = "fr"

_CATALOG: dict[str, tuple[str, str]] = {
    # --- formats (strftime; the interface keeps the French day/month order in English too) ----
    "format.datetime": ("%d/%m/%Y à %H:%M", "%d/%m/%Y at %H:%M"),
    "format.date": ("%d/%m/%Y", "%d/%m/%Y"),
    # --- page titles (the browser's tab) -------------------------------------------------
    "page.landing": ("Ma Banque — téléphone mobile sécurisé", "Ma Banque — secure mobile number"),
    "page.login": ("Connexion — Ma Banque", "Sign in — Ma Banque"),
    "page.home": ("Téléphone mobile sécurisé — Ma Banque", "Secure mobile number — Ma Banque"),
    "page.area": ("Espace client — Ma Banque", "Customer area — Ma Banque"),
    "page.app": ("Application Ma Banque", "Ma Banque app"),
    "page.advisor": ("Espace conseiller — Ma Banque", "Advisor area — Ma Banque"),
    "page.messages": ("SMS et e-mails reçus (démo) — Ma Banque", "Received SMS and emails (demo) — Ma Banque"),
    # --- countries and territories of the number field (ISO 3166 codes) ----------------------
    "region.FR": ("France", "France"),
    "region.GP": ("Guadeloupe", "Guadeloupe"),
    "region.MQ": ("Martinique", "Martinique"),
    "region.GF": ("Guyane", "French Guiana"),
    "region.RE": ("La Réunion", "Réunion"),
    "region.YT": ("Mayotte", "Mayotte"),
    "region.PM": ("Saint-Pierre-et-Miquelon", "Saint Pierre and Miquelon"),
    "region.BL": ("Saint-Barthélemy", "Saint Barthélemy"),
    "region.MF": ("Saint-Martin", "Saint Martin"),
    "region.WF": ("Wallis-et-Futuna", "Wallis and Futuna"),
    "region.PF": ("Polynésie française", "French Polynesia"),
    "region.NC": ("Nouvelle-Calédonie", "New Caledonia"),
    "region.AT": ("Autriche", "Austria"),
    "region.BE": ("Belgique", "Belgium"),
    "region.BG": ("Bulgarie", "Bulgaria"),
    "region.CY": ("Chypre", "Cyprus"),
    "region.CZ": ("Tchéquie", "Czechia"),
    "region.DE": ("Allemagne", "Germany"),
    "region.DK": ("Danemark", "Denmark"),
    "region.EE": ("Estonie", "Estonia"),
    "region.ES": ("Espagne", "Spain"),
    "region.FI": ("Finlande", "Finland"),
    "region.GR": ("Grèce", "Greece"),
    "region.HR": ("Croatie", "Croatia"),
    "region.HU": ("Hongrie", "Hungary"),
    "region.IE": ("Irlande", "Ireland"),
    "region.IT": ("Italie", "Italy"),
    "region.LT": ("Lituanie", "Lithuania"),
    "region.LU": ("Luxembourg", "Luxembourg"),
    "region.LV": ("Lettonie", "Latvia"),
    "region.MT": ("Malte", "Malta"),
    "region.NL": ("Pays-Bas", "Netherlands"),
    "region.PL": ("Pologne", "Poland"),
    "region.PT": ("Portugal", "Portugal"),
    "region.RO": ("Roumanie", "Romania"),
    "region.SE": ("Suède", "Sweden"),
    "region.SI": ("Slovénie", "Slovenia"),
    "region.SK": ("Slovaquie", "Slovakia"),
    "region.IS": ("Islande", "Iceland"),
    "region.LI": ("Liechtenstein", "Liechtenstein"),
    "region.NO": ("Norvège", "Norway"),
    "region.CH": ("Suisse", "Switzerland"),
    "region.GB": ("Royaume-Uni", "United Kingdom"),
    "region.MC": ("Monaco", "Monaco"),
    "region.AD": ("Andorre", "Andorra"),
    # --- shell, landing -----------------------------------------------------------------
    "bank.name": ("Ma Banque", "Ma Banque"),
    "skip.to.content": ("Aller au contenu", "Skip to content"),
    "lang.switch": ("English", "Français"),
    "lang.switch.label": ("Switch to English", "Passer en français"),
    "landing.title": ("Téléphone mobile sécurisé en autonomie", "Self-service secure mobile number"),
    "landing.intro": (
        "Démonstration : changer son numéro de mobile sécurisé, validé par Sécur'Pass.",
        "Demo: change your secure mobile number, approved with Sécur'Pass.",
    ),
    "landing.demo": ("La démonstration pas à pas (commencez ici)", "The demo, step by step (start here)"),
    "landing.demo.hint": (
        "Sur un écran large : l'espace web, le smartphone, les messages reçus et les coulisses côte à côte, avec "
        "les indications à suivre.",
        "On a wide screen: the web area, the smartphone, the received messages and the scenes behind them side by "
        "side, with the hints to follow.",
    ),
    "landing.web": ("Espace client web", "Web customer area"),
    "landing.web.hint": ("Sur ordinateur, connexion par identifiant.", "On a computer, sign in with your identifier."),
    "landing.app": ("Application mobile et Sécur'Pass", "Mobile app and Sécur'Pass"),
    "landing.app.hint": (
        "Le smartphone du client : application, validations Sécur'Pass.",
        "The customer's smartphone: app and Sécur'Pass approvals.",
    ),
    "landing.messages": ("SMS et e-mails reçus (démo)", "Received SMS and emails (demo)"),
    "landing.messages.hint": (
        "Ce que chaque numéro et chaque adresse a reçu.",
        "What each number and address received.",
    ),
    "landing.advisor": ("Espace conseiller", "Advisor back-office"),
    "landing.advisor.hint": ("Réservé aux conseillers de l'agence.", "For the agency's advisors."),
    # --- login ------------------------------------------------------------------------
    "login.title": ("Connexion à votre espace client", "Sign in to your customer area"),
    "login.identifier": ("Identifiant", "Identifier"),
    "login.identifier.hint": ("Vos 10 chiffres, par exemple 1000000001", "Your 10 digits, for example 1000000001"),
    "login.password": ("Mot de passe", "Password"),
    "login.submit": ("Se connecter", "Sign in"),
    "login.error.invalid": (
        "Identifiant ou mot de passe incorrect, ou accès suspendu 15 minutes après plusieurs essais. "
        "Vérifiez votre saisie et réessayez ; contactez votre conseiller si besoin.",
        "Incorrect identifier or password, or access suspended for 15 minutes after several attempts. Check "
        "what you typed and try again; contact your advisor if needed.",
    ),
    "login.error.throttled": (
        "Trop d'essais de connexion depuis cet appareil. Réessayez dans 15 minutes.",
        "Too many sign-in attempts from this device. Try again in 15 minutes.",
    ),
    "login.error.locked": (
        "Trop d'essais. Votre accès est suspendu 15 minutes ; contactez votre conseiller si besoin.",
        "Too many attempts. Access is suspended for 15 minutes; contact your advisor if needed.",
    ),
    "login.error.empty": ("Saisissez votre identifiant et votre mot de passe.", "Enter your identifier and password."),
    "logout": ("Se déconnecter", "Sign out"),
    "session.ended.factor_changed": (
        "Par sécurité, cette session a été fermée : votre numéro de mobile sécurisé ou votre Sécur'Pass vient "
        "de changer. Reconnectez-vous pour continuer.",
        "For your security this session was closed: your secure mobile number or your Sécur'Pass has just "
        "changed. Sign in again to continue.",
    ),
    "session.ended.not_me": (
        "Cette session a été fermée : depuis votre smartphone, une demande a été refusée avec « Je ne suis pas "
        "à l'origine de cette demande ». Les changements en ligne sont suspendus ; votre conseiller vous aidera.",
        "This session was closed: a request was declined from your smartphone with \"I did not make this "
        "request\". Online changes are suspended; your advisor will help you.",
    ),
    "session.ended.advisor": (
        "Cette session a été fermée par votre conseiller, par sécurité. Reconnectez-vous pour continuer.",
        "Your advisor closed this session for your security. Sign in again to continue.",
    ),
    "session.expired": (
        "Votre session a expiré. Reconnectez-vous pour continuer.",
        "Your session has expired. Sign in again to continue.",
    ),
    "error.summary.title": ("Il y a un problème", "There is a problem"),
    # --- secure phone overview --------------------------------------------------------
    "nav.details": ("Mes coordonnées", "My details"),
    "overview.title": ("Mes coordonnées", "My details"),
    "overview.secure.phone": ("Téléphone mobile sécurisé", "Secure mobile phone"),
    "overview.secure.phone.hint": (
        "Ce numéro reçoit vos codes de sécurité et les alertes de votre banque.",
        "This number receives your security codes and your bank's alerts.",
    ),
    "overview.modify": ("Modifier", "Change"),
    "overview.modify.label": ("Modifier le téléphone mobile sécurisé", "Change the secure mobile phone"),
    "overview.cooling.off": (
        "Numéro modifié récemment : certaines opérations sensibles restent limitées jusqu'au",
        "Number changed recently: some sensitive operations stay limited until",
    ),
    "overview.ineligible.title": (
        "Vous ne pouvez pas modifier ce numéro en ligne",
        "You cannot change this number online",
    ),
    "overview.contact.advisor": ("Contacter mon conseiller", "Contact my advisor"),
    "masked.prefix": ("Numéro masqué commençant par", "Masked number starting with"),
    "masked.suffix": ("et finissant par", "and ending with"),
    # --- eligibility reasons ----------------------------------------------------------
    "ineligible.legal_person": (
        "Le numéro d'une personne morale se modifie avec votre conseiller.",
        "A legal entity's number is changed with your advisor.",
    ),
    "ineligible.no_remote_banking": (
        "Votre contrat ne comprend pas d'abonnement Banque à distance.",
        "Your contract has no remote-banking subscription.",
    ),
    "ineligible.professional_subscription": (
        "Votre abonnement Banque à distance Professionnel ne permet pas ce changement en ligne.",
        "Your Professional remote-banking subscription does not allow this change online.",
    ),
    "ineligible.minor": (
        "Vous êtes mineur : ce changement se fait avec votre représentant légal et votre conseiller.",
        "You are a minor: this change is made with your legal guardian and your advisor.",
    ),
    "ineligible.protected_adult": (
        "Vous bénéficiez d'une mesure de protection : ce changement se fait avec votre conseiller.",
        "You are under a legal protection measure: this change is made with your advisor.",
    ),
    "ineligible.frozen": (
        "Les changements en ligne sont suspendus depuis que vous avez refusé une demande avec « Je ne suis "
        "pas à l'origine de cette demande ». Votre conseiller peut les rétablir, en agence.",
        "Online changes are suspended since you declined a request with \"I did not make this request\". "
        "Your advisor can restore them, in the branch.",
    ),
    "ineligible.no_securpass": (
        "Sécur'Pass n'est pas activé. Téléchargez l'application mobile et activez Sécur'Pass pour "
        "modifier votre numéro en autonomie.",
        "Sécur'Pass is not activated. Download the mobile app and activate Sécur'Pass to change "
        "your number on your own.",
    ),
    "ineligible.securpass_blocked": (
        "Votre Sécur'Pass est bloqué. Votre conseiller peut le débloquer.",
        "Your Sécur'Pass is blocked. Your advisor can unblock it.",
    ),
    "ineligible.no_enrolled_device": (
        "Aucun smartphone n'est enregistré pour Sécur'Pass.",
        "No smartphone is enrolled for Sécur'Pass.",
    ),
    "ineligible.recent_device_change": (
        "Sécur'Pass vient d'être transféré sur un nouveau smartphone : par sécurité, le numéro ne peut "
        "pas être modifié en ligne pendant 72 heures.",
        "Sécur'Pass has just moved to a new smartphone: for your security the number cannot be "
        "changed online for 72 hours.",
    ),
    # --- steps ------------------------------------------------------------------------
    "steps.label": ("Étapes", "Steps"),
    "step.number": ("Numéro", "Number"),
    "step.confirm": ("Confirmation", "Confirmation"),
    "step.securpass": ("Sécur'Pass", "Sécur'Pass"),
    "step.code": ("Code", "Code"),
    "step.done": ("Terminé", "Done"),
    "step.current": ("étape en cours", "current step"),
    "step.of": ("Étape", "Step"),
    # --- new number ---------------------------------------------------------------
    "new.title": ("Quel est votre nouveau numéro de mobile ?", "What is your new mobile number?"),
    "new.label": ("Nouveau numéro de mobile sécurisé", "New secure mobile number"),
    "new.hint": ("Exemple : 06 12 34 56 78", "Example: 06 12 34 56 78"),
    "new.country": ("Pays", "Country"),
    "continue": ("Continuer", "Continue"),
    "cancel": ("Annuler", "Cancel"),
    "back.to.details": ("Retour à mes coordonnées", "Back to my details"),
    "number.empty": ("Saisissez votre nouveau numéro de mobile.", "Enter your new mobile number."),
    "number.not_a_number": (
        "Saisissez un numéro de téléphone, avec des chiffres uniquement, par exemple 06 12 34 56 78.",
        "Enter a phone number, in digits only, for example 06 12 34 56 78.",
    ),
    "number.invalid": (
        "Ce numéro n'existe pas. Vérifiez le nombre de chiffres et le pays choisi.",
        "This number does not exist. Check the number of digits and the country chosen.",
    ),
    "number.ambiguous_territory": (
        "Ce numéro existe dans plusieurs territoires d'outre-mer : choisissez le bon territoire dans la "
        "liste « Pays », puis validez à nouveau.",
        "This number exists in several overseas territories: choose the right territory in the \"Country\" "
        "list, then try again.",
    ),
    "number.country_not_allowed": (
        "Ce pays n'est pas accepté. Saisissez un numéro de France, d'un pays de l'Espace économique "
        "européen, de Suisse, du Royaume-Uni, de Monaco ou d'Andorre.",
        "This country is not accepted. Enter a number from France, the European Economic Area, "
        "Switzerland, the United Kingdom, Monaco or Andorra.",
    ),
    "number.landline": (
        "Saisissez un numéro de mobile : ce numéro est une ligne fixe.",
        "Enter a mobile number: this number is a landline.",
    ),
    "number.voip": (
        "Saisissez un numéro de mobile : les numéros en 09 (box internet) ne reçoivent pas les SMS de sécurité.",
        "Enter a mobile number: 09 numbers (internet boxes) do not receive security text messages.",
    ),
    "number.premium": (
        "Saisissez un numéro de mobile : ce numéro est un numéro surtaxé.",
        "Enter a mobile number: this is a premium-rate number.",
    ),
    "number.shared_cost": (
        "Saisissez un numéro de mobile : ce numéro est un numéro à coût partagé.",
        "Enter a mobile number: this is a shared-cost number.",
    ),
    "number.m2m": (
        "Saisissez un numéro de mobile personnel : les numéros en 07 00 sont réservés aux objets connectés.",
        "Enter a personal mobile number: 07 00 numbers are reserved for connected devices.",
    ),
    "number.toll_free": (
        "Saisissez un numéro de mobile : ce numéro est un numéro vert ou gratuit.",
        "Enter a mobile number: this is a toll-free number.",
    ),
    "number.pager": (
        "Saisissez un numéro de mobile : ce numéro est celui d'un bipeur (radiomessagerie), qui ne reçoit "
        "pas les SMS.",
        "Enter a mobile number: this is a pager number, which does not receive text messages.",
    ),
    "number.uan": (
        "Saisissez un numéro de mobile : ce numéro est le numéro d'accès d'une entreprise ou d'un service.",
        "Enter a mobile number: this is the single access number of a company or a service.",
    ),
    "number.personal_number": (
        "Saisissez le numéro de votre mobile lui-même : ce numéro renvoie les appels vers une autre ligne.",
        "Enter your mobile's own number: this number forwards calls to another line.",
    ),
    "number.voicemail": (
        "Saisissez un numéro de mobile : ce numéro est celui d'une messagerie vocale.",
        "Enter a mobile number: this is a voicemail number.",
    ),
    "number.other_not_mobile": (
        "Saisissez un numéro de mobile : ce numéro ne peut pas recevoir de SMS.",
        "Enter a mobile number: this number cannot receive text messages.",
    ),
    "number.masked_ending": ("Numéro masqué finissant par", "Masked number ending with"),  # no digit shown first
    "number.same_as_current": (
        "C'est déjà votre numéro de mobile sécurisé. Saisissez le nouveau numéro.",
        "This is already your secure mobile number. Enter the new number.",
    ),
    "number.unavailable": (
        "Ce numéro ne peut pas être enregistré. Saisissez un autre numéro ou contactez votre conseiller.",
        "This number cannot be registered. Enter another number or contact your advisor.",
    ),
    # --- confirmation -----------------------------------------------------------------
    "confirm.title": ("Confirmez-vous ce numéro ?", "Do you confirm this number?"),
    "confirm.phone": ("Téléphone sécurisé :", "Secure phone:"),
    "confirm.on": ("sur", "for"),
    "confirm.explain": (
        "Après confirmation, validez la demande avec Sécur'Pass sur votre smartphone.",
        "After you confirm, approve the request with Sécur'Pass on your smartphone.",
    ),
    "confirm.submit": ("Confirmer", "Confirm"),
    "confirm.edit": ("Modifier le numéro", "Edit the number"),
    "limit.requests": (
        "Vous avez fait 3 demandes de changement en 24 heures. Réessayez demain ou contactez votre conseiller.",
        "You have made 3 change requests in 24 hours. Try again tomorrow or contact your advisor.",
    ),
    "change.in_progress": (
        "Votre précédent changement de numéro est en cours d'enregistrement. Réessayez dans quelques minutes.",
        "Your previous change of number is being saved. Try again in a few minutes.",
    ),
    "flow.timeout": (
        "Sans action de votre part pendant 5 minutes, la demande a été abandonnée. Recommencez.",
        "After 5 minutes without activity the request was abandoned. Start again.",
    ),
    # --- waiting for Sécur'Pass (web step 4) -------------------------------------------
    "wait.title": ("Validez sur votre smartphone", "Approve on your smartphone"),
    "wait.explain": (
        "Une demande de validation Sécur'Pass a été envoyée sur votre smartphone enregistré. Ouvrez "
        "l'application, vérifiez le nouveau numéro puis saisissez votre code Sécur'Pass.",
        "A Sécur'Pass approval request was sent to your enrolled smartphone. Open the app, check the "
        "new number, then enter your Sécur'Pass code.",
    ),
    "wait.time.left": ("Temps restant :", "Time left:"),
    "expiry.approval": (
        "Moins d'une minute pour valider. Passé ce délai, la demande expire : vous pourrez en faire une nouvelle.",
        "Less than a minute left to approve. After that the request expires: you can make a new one.",
    ),
    "expiry.session": (
        "Sans action de votre part, vous serez déconnecté dans moins d'une minute, pour votre sécurité.",
        "Without any action from you, you will be signed out in less than a minute, for your security.",
    ),
    "expiry.stay": ("Rester connecté", "Stay signed in"),
    "wait.waiting": ("En attente de votre validation…", "Waiting for your approval…"),
    "wait.cancel.hint": (
        "Vous avez changé de smartphone ? Annulez cette demande.",
        "Changed your smartphone? Cancel this request.",
    ),
    "wait.fraud": (
        "Votre banque ne vous demandera jamais de valider une demande Sécur'Pass par téléphone. "
        "Si quelqu'un vous le demande, c'est un fraudeur : raccrochez.",
        "Your bank will never ask you to approve a Sécur'Pass request over the phone. Anyone who "
        "asks is a fraudster: hang up.",
    ),
    # --- outcomes ---------------------------------------------------------------------
    "success.title": (
        "Votre nouveau numéro de mobile sécurisé est enregistré.",
        "Your new secure mobile number is registered.",
    ),
    "success.body": (
        "Un e-mail de confirmation et un SMS sur votre ancien numéro vous informent du changement.",
        "A confirmation email and a text message to your old number tell you about the change.",
    ),
    "success.number": ("Nouveau numéro :", "New number:"),
    "applying.title": (
        "Votre validation est enregistrée : le numéro est en cours d'enregistrement.",
        "Your approval is recorded: the number is being saved.",
    ),
    "applying.body": (
        "Notre système est momentanément lent. Le changement sera terminé automatiquement et vous "
        "recevrez l'e-mail et le SMS de confirmation. Vous n'avez rien à refaire.",
        "Our system is slow at the moment. The change will complete automatically and you will receive "
        "the confirmation email and text message. You have nothing to redo.",
    ),
    "outcome.cancelled": ("Demande annulée. Votre numéro n'a pas changé.", "Request cancelled. Your number has not changed."),
    "outcome.expired": (
        "Le délai de 5 minutes est dépassé : la demande a expiré. Votre numéro n'a pas changé.",
        "The 5 minutes are over: the request has expired. Your number has not changed.",
    ),
    "outcome.refused": (
        "La demande a été refusée sur votre smartphone. Votre numéro n'a pas changé.",
        "The request was declined on your smartphone. Your number has not changed.",
    ),
    "outcome.superseded": (
        "Cette demande a été remplacée par une demande plus récente.",
        "This request was replaced by a more recent one.",
    ),
    "outcome.blocked": (
        "Trop de codes Sécur'Pass erronés : Sécur'Pass est bloqué. Contactez votre conseiller pour le débloquer.",
        "Too many wrong Sécur'Pass codes: Sécur'Pass is blocked. Contact your advisor to unblock it.",
    ),
    "outcome.failed": (
        "Le changement n'a pas pu être enregistré. Votre numéro n'a pas changé ; réessayez plus tard ou "
        "contactez votre conseiller.",
        "The change could not be saved. Your number has not changed; try again later or contact your advisor.",
    ),
    "outcome.proof.failed": (
        "Le code envoyé au nouveau numéro a été mal saisi trop de fois : la demande est annulée. Votre numéro n'a "
        "pas changé.",
        "The code sent to the new number was entered wrongly too many times: the request is cancelled. Your number "
        "has not changed.",
    ),
    "outcome.proof.expired": (
        "Le code envoyé au nouveau numéro n'a pas été saisi à temps : la demande a expiré. Votre numéro n'a pas "
        "changé.",
        "The code sent to the new number was not entered in time: the request has expired. Your number has not "
        "changed.",
    ),
    "outcome.proof.gone": (
        "Cette demande n'est plus en cours (expirée, annulée ou remplacée). Votre numéro n'a pas changé.",
        "This request is no longer in progress (expired, cancelled or replaced). Your number has not changed.",
    ),
    # --- §12.3: the new number is proven ----------------------------------------------------
    "proof.title": ("Saisissez le code reçu au", "Enter the code received on"),
    "proof.intro": (
        "Nous venons de l'envoyer par SMS à votre nouveau numéro, pour vérifier qu'il est bien le vôtre. Il est "
        "valable 10 minutes.",
        "We have just sent it by text message to your new number, to check that it is yours. It is valid for 10 "
        "minutes.",
    ),
    "proof.label": ("Code à 6 chiffres", "6-digit code"),
    "proof.hint": (
        "Il figure dans le SMS de Ma Banque. Votre téléphone peut vous le proposer ; vous pouvez aussi le coller.",
        "It is in the text message from Ma Banque. Your phone may suggest it; you can also paste it.",
    ),
    "proof.submit": ("Valider le code", "Confirm the code"),
    "proof.resend": ("Renvoyer le code", "Send the code again"),
    "proof.resent": (
        "Un nouveau code vient d'être envoyé. Le précédent ne fonctionne plus.",
        "A new code has just been sent. The previous one no longer works.",
    ),
    "proof.wrong.number": ("Ce n'est pas le bon numéro ?", "Not the right number?"),
    "proof.change.number": ("Corriger le numéro", "Correct the number"),
    "start.again": ("Recommencer", "Start again"),
    "error.generic": (
        "Une erreur est survenue. Rien n'a été modifié. Réessayez dans un instant.",
        "Something went wrong. Nothing was changed. Try again in a moment.",
    ),
    # --- app, phone picker ------------------------------------------------------------
    "app.title": ("Ma Banque", "Ma Banque"),
    "picker.title": ("Quel smartphone tenez-vous ?", "Which smartphone are you holding?"),
    "picker.explain": (
        "Démonstration : choisissez le smartphone simulé par ce navigateur. Le choix est conservé "
        "jusqu'à « Changer de smartphone ».",
        "Demo: choose the smartphone this browser simulates. The choice is kept until "
        "\"Change smartphone\".",
    ),
    "picker.new": ("Nouveau smartphone", "New smartphone"),
    "picker.phone.of": ("Smartphone de {name}", "{name}'s smartphone"),
    "picker.new.hint": ("Un smartphone sur lequel Sécur'Pass n'est pas activé.", "A smartphone on which Sécur'Pass is not activated."),
    "picker.change": ("Changer de smartphone", "Change smartphone"),
    "picker.this.phone": ("Ce smartphone :", "This smartphone:"),
    "picker.unsupported": (
        "Ce navigateur ne peut pas créer de clé Sécur'Pass.",
        "This browser cannot create a Sécur'Pass key.",
    ),
    "app.home.title": ("Bonjour", "Hello"),
    "app.securpass.active": ("Sécur'Pass est actif sur ce smartphone.", "Sécur'Pass is active on this smartphone."),
    "app.securpass.software": (
        "Connexion non sécurisée (HTTP) : la clé Sécur'Pass de ce smartphone est moins protégée, "
        "lisible par les scripts de la page.",
        "Insecure connection (HTTP): this smartphone's Sécur'Pass key is less protected, "
        "readable by the page's scripts.",
    ),
    "app.no.pending": ("Aucune demande Sécur'Pass en attente.", "No pending Sécur'Pass request."),
    "app.not.enrolled.title": (
        "Sécur'Pass n'est pas activé sur ce smartphone",
        "Sécur'Pass is not activated on this smartphone",
    ),
    "app.not.enrolled.body": (
        "Ce smartphone n'est pas celui enregistré pour Sécur'Pass. Vous ne pouvez pas valider d'opération depuis ce smartphone.",
        "This is not the smartphone enrolled for Sécur'Pass. You cannot approve operations from it.",
    ),
    # --- Sécur'Pass approval (J5) -----------------------------------------------------
    "sp.badge": ("Sécur'Pass · Validation d'opération", "Sécur'Pass · Operation approval"),
    "sp.title": ("Changement de numéro de mobile sécurisé", "Change of secure mobile number"),
    "sp.not.login": (
        "Il ne s'agit pas d'une connexion : vous autorisez le remplacement de votre numéro de mobile sécurisé.",
        "This is not a sign-in: you are authorising the replacement of your secure mobile number.",
    ),
    "sp.requested.at": ("Demandée le", "Requested on"),
    "sp.new.number": ("Nouveau numéro", "New number"),
    "sp.details": ("Détail signé par ce smartphone", "Details signed by this smartphone"),
    "sp.fraud.title": ("Attention à la fraude", "Beware of fraud"),
    "sp.fraud": (
        "Votre banque ne vous demandera jamais de valider une demande Sécur'Pass par téléphone. Si "
        "quelqu'un vous appelle pour vous le demander, c'est un fraudeur : refusez la demande.",
        "Your bank will never ask you to approve a Sécur'Pass request over the phone. If someone "
        "calls you and asks, they are a fraudster: decline the request.",
    ),
    "sp.code": ("Code Sécur'Pass", "Sécur'Pass code"),
    "sp.code.hint": ("Vos 4 chiffres", "Your 4 digits"),
    "sp.validate": ("Valider", "Approve"),
    "sp.refuse": ("Refuser", "Decline"),
    "sp.refuse.title": ("Pourquoi refusez-vous ?", "Why are you declining?"),
    "sp.refuse.not_me": (
        "Je ne suis pas à l'origine de cette demande",
        "I did not make this request",
    ),
    "sp.refuse.changed_mind": ("J'ai changé d'avis", "I changed my mind"),
    "sp.refuse.confirm": ("Refuser la demande", "Decline the request"),
    "sp.back": ("Retour", "Back"),
    "sp.code.format": ("Saisissez les 4 chiffres de votre code Sécur'Pass.", "Enter the 4 digits of your Sécur'Pass code."),
    "sp.failed": (
        "Validation impossible. Vérifiez votre code et réessayez.",
        "Approval failed. Check your code and try again.",
    ),
    "sp.failed.last": (
        "Validation impossible. Attention : il vous reste un seul essai avant le blocage de Sécur'Pass.",
        "Approval failed. Careful: one try left before Sécur'Pass is blocked.",
    ),
    "sp.approved": ("Demande validée.", "Request approved."),
    "sp.refused.not_me": (
        "Demande refusée. Votre conseiller est alerté ; votre numéro n'a pas changé. Par sécurité, vos autres "
        "sessions ont été fermées et les changements en ligne sont suspendus jusqu'à ce que votre conseiller "
        "les rétablisse. Changez votre mot de passe si vous pensez qu'il est connu de quelqu'un d'autre.",
        "Request declined. Your advisor has been alerted; your number has not changed. For your security your "
        "other sessions were closed and online changes are suspended until your advisor restores them. Change "
        "your password if you think someone else knows it.",
    ),
    "sp.refused.changed_mind": ("Demande refusée. Votre numéro n'a pas changé.", "Request declined. Your number has not changed."),
    "sp.gone": (
        "Cette demande n'est plus valable (annulée, expirée ou remplacée). Rien n'a été modifié.",
        "This request is no longer valid (cancelled, expired or replaced). Nothing was changed.",
    ),
    # --- the demo page (/demo) -----------------------------------------------------------
    "page.demo": ("Démonstration — Ma Banque", "Demo — Ma Banque"),
    "demo.title": ("La démonstration, pas à pas", "The demo, step by step"),
    "demo.intro": ("Chaque volet est la vraie page, avec ses sessions ; à droite, ce qui se passe en coulisses.",
                   "Each pane is the real page, with its own sessions; on the right, what happens behind the scenes."),
    "demo.small.title": ("Cette démonstration demande un grand écran", "This demo needs a large screen"),
    "demo.small.text": (
        "La page de démonstration montre quatre volets côte à côte : ouvrez-la sur un écran d'au moins 1280 pixels "
        "de large. Sur ce smartphone, ouvrez directement l'application.",
        "The demo page shows four panes side by side: open it on a screen at least 1280 pixels wide. On this "
        "smartphone, open the app directly.",
    ),
    "demo.small.link": ("Ouvrir l'application Ma Banque", "Open the Ma Banque app"),
    "demo.persona": ("Personne", "Person"),
    "demo.scenario": ("Scénario", "Scenario"),
    "demo.start": ("Commencer", "Start"),
    "demo.choose.hint": ("Choisissez un scénario : la personne qui va avec est proposée.",
                         "Choose a scenario: the person that goes with it is suggested."),
    "demo.scenario.j1": ("J1 — changer de numéro sur le web", "J1 — change the number on the web"),
    "demo.scenario.j2": ("J2 — changer de numéro dans l'application", "J2 — change the number in the app"),
    "demo.scenario.j3": ("J3 — smartphone changé : annuler la demande", "J3 — changed smartphone: cancel the request"),
    "demo.scenario.j4": ("J4 — première connexion sur un nouveau smartphone",
                         "J4 — first sign-in on a new smartphone"),
    "demo.scenario.j7": ("J7 — numéro non confirmé depuis un an", "J7 — number not confirmed for a year"),
    "demo.scenario.f1": ("Fraude — l'appel d'un faux conseiller", "Fraud — a call from a fake advisor"),
    "demo.scenario.sim": ("Fraude — carte SIM échangée (signal de l'opérateur)",
                          "Fraud — swapped SIM card (operator's signal)"),
    "demo.steps": ("Étapes", "Steps"),
    "demo.step.of": ("Étape", "Step"),
    "demo.step.now": ("À faire maintenant", "To do now"),
    "demo.step.done": ("fait", "done"),
    "demo.next": ("Étape suivante", "Next step"),
    "demo.previous": ("Étape précédente", "Previous step"),
    "demo.restart": ("Recommencer le scénario", "Restart the scenario"),
    "demo.the.end": ("Fin du scénario : choisissez-en un autre, ou recommencez.",
                     "End of the scenario: choose another one, or start again."),
    "demo.look": ("Regardez ici", "Look here"),
    "demo.pane.web": ("Espace client web", "Web customer area"),
    "demo.pane.phone": ("Smartphone", "Smartphone"),
    "demo.pane.inbox": ("SMS et e-mails reçus", "Received SMS and emails"),
    "demo.pane.behind": ("En coulisses", "Behind the scenes"),
    "demo.credentials": ("Identifiant {id} · mot de passe {password} · code Sécur'Pass {code}",
                         "Identifier {id} · password {password} · Sécur'Pass code {code}"),
    "demo.mysys": ("MySys, le système de référence", "MySys, the system of record"),
    "demo.mysys.number": ("Numéro de mobile sécurisé", "Secure mobile number"),
    "demo.mysys.email": ("Adresse e-mail", "Email address"),
    "demo.mysys.updated": ("Mis à jour à", "Updated at"),
    "demo.mysys.none": ("MySys ne connaît pas cette personne.", "MySys does not know this person."),
    "demo.history": ("Historique des changements dans MySys", "History of the changes in MySys"),
    "demo.history.none": ("Aucun changement depuis l'ouverture du dossier.", "No change since the record was opened."),
    "demo.history.arrow": ("remplacé par", "replaced by"),
    "demo.source.other": ("une autre source", "another source"),
    "demo.audit": ("Journal d'audit : dernières entrées", "Audit trail: last entries"),
    "demo.audit.none": ("Aucune entrée pour l'instant.", "No entry yet."),
    "demo.tl.other": ("Autre opération", "Other operation"),
    "demo.result.other": ("autre issue", "other outcome"),
    "demo.advisor": ("Ce que voit le conseiller", "What the advisor sees"),
    "demo.advisor.none": ("Aucun point de vigilance sur la fiche.", "No point of vigilance on the sheet."),
    "demo.advisor.frozen": ("Changements en ligne gelés jusqu'à l'intervention d'un conseiller.",
                            "Online changes frozen until an advisor steps in."),
    "demo.frame.web": ("Espace client web (page réelle)", "Web customer area (the real page)"),
    "demo.frame.phone": ("Application sur le smartphone (page réelle)", "App on the smartphone (the real page)"),
    "demo.frame.inbox": ("SMS et e-mails reçus (page réelle)", "Received SMS and emails (the real page)"),
    "demo.step.pick": (
        "Dans le smartphone, touchez « Smartphone de {name} » (ou, si un autre smartphone est déjà choisi, "
        "« Changer de smartphone » d'abord).",
        "In the smartphone, tap \"{name}'s smartphone\" (or, if another smartphone is already chosen, "
        "\"Change smartphone\" first).",
    ),
    "demo.step.login.app": (
        "Dans le smartphone, connectez-vous : identifiant {id}, mot de passe {password}, « Se connecter ».",
        "In the smartphone, sign in: identifier {id}, password {password}, \"Sign in\".",
    ),
    "demo.step.login.web": (
        "Dans l'espace web, connectez-vous : identifiant {id}, mot de passe {password}, « Se connecter ».",
        "In the web area, sign in: identifier {id}, password {password}, \"Sign in\".",
    ),
    "demo.step.enter.web": (
        "Dans l'espace web, touchez « Modifier », saisissez {new}, « Continuer », puis « Confirmer ».",
        "In the web area, click \"Change\", type {new}, \"Continue\", then \"Confirm\".",
    ),
    "demo.step.enter.app": (
        "Dans le smartphone, touchez « Modifier », saisissez {new}, « Continuer », puis « Confirmer ».",
        "In the smartphone, tap \"Change\", type {new}, \"Continue\", then \"Confirm\".",
    ),
    "demo.step.proof.web": (
        "Le nouveau numéro doit être prouvé : lisez le code à 6 chiffres reçu par SMS au {new} dans les messages, "
        "saisissez-le dans l'espace web, puis « Valider le code ».",
        "The new number must be proven: read the 6-digit code the SMS to {new} brought in the messages, type it in "
        "the web area, then \"Confirm the code\".",
    ),
    "demo.step.proof.app": (
        "Le nouveau numéro doit être prouvé : lisez le code à 6 chiffres reçu par SMS au {new} dans les messages, "
        "saisissez-le dans le smartphone, puis « Valider le code ».",
        "The new number must be proven: read the 6-digit code the SMS to {new} brought in the messages, type it in "
        "the smartphone, then \"Confirm the code\".",
    ),
    "demo.step.approve": (
        "L'espace web attend ; le smartphone demande la validation du changement. Saisissez le code Sécur'Pass "
        "{code}, puis « Valider ».",
        "The web area waits; the smartphone asks to approve the change. Type the Sécur'Pass code {code}, then "
        "\"Approve\".",
    ),
    "demo.step.approve.app": (
        "La validation Sécur'Pass s'ouvre dans l'application : saisissez le code {code}, puis « Valider ».",
        "The Sécur'Pass approval opens in the app: type the code {code}, then \"Approve\".",
    ),
    "demo.step.success.web": (
        "L'espace web a changé de lui-même : le nouveau numéro est enregistré, sans rechargement.",
        "The web area changed by itself: the new number is saved, without a reload.",
    ),
    "demo.step.mysys": (
        "En coulisses : MySys contient maintenant {new}, son historique garde l'ancien numéro {old}, et le "
        "journal d'audit montre chaque étape.",
        "Behind the scenes: MySys now holds {new}, its history keeps the old number {old}, and the audit trail "
        "shows every step.",
    ),
    "demo.step.notified": (
        "Dans les messages : l'e-mail de confirmation et le SMS à l'ancien numéro {old} sont arrivés (et le SMS "
        "de bienvenue au {new}).",
        "In the messages: the confirmation email and the SMS to the old number {old} have arrived (and the welcome "
        "SMS to {new}).",
    ),
    "demo.step.cancel": (
        "Le Sécur'Pass de {name} est sur son ancien smartphone : dans l'espace web, touchez « Annuler ».",
        "{name}'s Sécur'Pass is on the old smartphone: in the web area, click \"Cancel\".",
    ),
    "demo.step.ways.out": (
        "L'espace web propose deux issues : activer Sécur'Pass sur le nouveau smartphone, ou « Je n'ai plus accès "
        "à ce numéro » (le conseiller).",
        "The web area offers two ways out: activate Sécur'Pass on the new smartphone, or \"I no longer have "
        "access to this number\" (the advisor).",
    ),
    "demo.step.cancelled.behind": (
        "En coulisses : la demande est annulée (journal d'audit) et MySys n'a pas changé.",
        "Behind the scenes: the request is cancelled (audit trail) and MySys did not change.",
    ),
    "demo.step.new.phone": (
        "Dans le smartphone, touchez « Changer de smartphone » si besoin, puis « Nouveau smartphone ». "
        "Connectez-vous : identifiant {id}, mot de passe {password}.",
        "In the smartphone, tap \"Change smartphone\" if needed, then \"New smartphone\". Sign in: identifier "
        "{id}, password {password}.",
    ),
    "demo.step.activation.send": (
        "Le smartphone demande d'activer Sécur'Pass : touchez « Recevoir le code par SMS ».",
        "The smartphone asks to activate Sécur'Pass: tap \"Get the code by text message\".",
    ),
    "demo.step.activation.code": (
        "Lisez le code à 8 chiffres reçu au {old} dans les messages ; saisissez-le dans le smartphone, choisissez "
        "le code Sécur'Pass {code}, puis « Activer Sécur'Pass ».",
        "Read the 8-digit code that {old} received in the messages; type it in the smartphone, choose the Sécur'Pass "
        "code {code}, then \"Activate Sécur'Pass\".",
    ),
    "demo.step.activation.behind": (
        "En coulisses : le journal d'audit montre « Sécur'Pass activé sur un nouveau smartphone » (l'ancien ne peut "
        "plus rien valider) ; le conseiller voit « Sécur'Pass récemment transféré sur un nouveau smartphone ».",
        "Behind the scenes: the audit trail shows \"Sécur'Pass activated on a new smartphone\" (the old one can no "
        "longer approve anything); the advisor sees \"Sécur'Pass recently moved to a new smartphone\".",
    ),
    "demo.step.activation.notified": (
        "Dans les messages : l'e-mail et le SMS au {old} préviennent {name} du nouveau smartphone.",
        "In the messages: the email and the SMS to {old} tell {name} about the new smartphone.",
    ),
    "demo.step.stale.login": (
        "Dans l'espace web, connectez-vous : identifiant {id}, mot de passe {password}. Le numéro n'a pas été "
        "confirmé depuis plus d'un an : la question vient avant tout le reste.",
        "In the web area, sign in: identifier {id}, password {password}. The number has not been confirmed for "
        "over a year: the question comes before anything else.",
    ),
    "demo.step.stale.yes": (
        "Dans l'espace web, touchez « Oui, c'est mon numéro » : un code part par SMS au {old}.",
        "In the web area, click \"Yes, it is my number\": a code goes by SMS to {old}.",
    ),
    "demo.step.stale.code": (
        "Lisez le code reçu au {old} dans les messages, saisissez-le dans l'espace web, puis « Confirmer mon "
        "numéro ».",
        "Read the code that {old} received in the messages, type it in the web area, then \"Confirm my number\".",
    ),
    "demo.step.stale.behind": (
        "En coulisses : la confirmation est au journal d'audit ; la question ne reviendra pas avant un an.",
        "Behind the scenes: the confirmation is in the audit trail; the question will not come back for a year.",
    ),
    "demo.step.fraud.intro": (
        "Un escroc connaît les identifiants de {name}. Il l'appelle en se faisant passer pour la banque : "
        "« une validation va arriver sur votre téléphone, acceptez-la pour sécuriser votre compte ».",
        "A crook knows {name}'s credentials. He calls, pretending to be the bank: \"an approval will come up on "
        "your phone, accept it to secure your account\".",
    ),
    "demo.step.fraud.login": (
        "L'escroc, dans l'espace web : identifiant {id}, mot de passe {password}, « Se connecter ».",
        "The crook, in the web area: identifier {id}, password {password}, \"Sign in\".",
    ),
    "demo.step.fraud.enter": (
        "L'escroc saisit son propre numéro : « Modifier », {new}, « Continuer », « Confirmer ».",
        "The crook types his own number: \"Change\", {new}, \"Continue\", \"Confirm\".",
    ),
    "demo.step.fraud.proof": (
        "Le code part au {new}, le numéro de l'escroc : il le lit dans les messages et le saisit dans l'espace web.",
        "The code goes to {new}, the crook's number: he reads it in the messages and types it in the web area.",
    ),
    "demo.step.fraud.refuse": (
        "{name} lit l'avertissement : la banque ne demande jamais de valider par téléphone. Touchez « Refuser », "
        "« Je ne suis pas à l'origine de cette demande », puis « Refuser la demande ».",
        "{name} reads the warning: the bank never asks to approve over the phone. Tap \"Decline\", \"I did not "
        "make this request\", then \"Decline the request\".",
    ),
    "demo.step.fraud.behind": (
        "En coulisses : alerte de fraude, changements en ligne gelés, sessions de l'escroc fermées ; le conseiller "
        "voit le point de vigilance. MySys garde {old}.",
        "Behind the scenes: fraud alert, online changes frozen, the crook's sessions ended; the advisor sees the "
        "point of vigilance. MySys keeps {old}.",
    ),
    "demo.step.sim.enter": (
        "Dans l'espace web, touchez « Modifier », saisissez {new}, « Continuer », puis « Confirmer » : l'opérateur "
        "signale que la carte SIM du {old} vient d'être échangée, le changement en ligne est refusé.",
        "In the web area, click \"Change\", type {new}, \"Continue\", then \"Confirm\": the operator reports that "
        "the SIM card of {old} was just swapped, the online change is refused.",
    ),
    "demo.step.sim.behind": (
        "En coulisses : le conseiller voit le signal de l'opérateur ; MySys garde {old}.",
        "Behind the scenes: the advisor sees the operator's signal; MySys keeps {old}.",
    ),
    # --- demo inboxes -----------------------------------------------------------------
    "messages.title": ("SMS et e-mails reçus", "Received SMS and emails"),
    "messages.intro": (
        "Démonstration : ce que chaque numéro et chaque adresse a reçu, du plus récent au plus ancien.",
        "Demo: what each number and address received, newest first.",
    ),
    "messages.none": ("Aucun message pour l'instant.", "No messages yet."),
    "messages.filter": ("Filtrer par numéro ou adresse", "Filter by number or address"),
    "messages.filter.hint": ("Exemple : 06 12 34 56 78 ou camille", "Example: 06 12 34 56 78 or camille"),
    "messages.none.filtered": ("Aucun message pour ce numéro ou cette adresse.",
                               "No messages for this number or address."),
    "messages.sms": ("SMS", "SMS"),
    "messages.email": ("E-mail", "Email"),
    "messages.received": ("Reçu le", "Received on"),
    "messages.smtp": ("Arrivé par SMTP, session", "Arrived over SMTP, session"),
    "messages.smtp.html": ("texte et HTML", "text and HTML"),
    "messages.smtp.text": ("texte seul", "text only"),
    # --- J6: the advisor ----------------------------------------------------------------
    "advisor.title": ("Contacter votre conseiller", "Contact your advisor"),
    "advisor.intro": (
        "Votre conseiller peut vous aider à mettre à jour votre numéro de mobile sécurisé, en agence, "
        "avec une pièce d'identité.",
        "Your advisor can help you update your secure mobile number, in the branch, with an identity document.",
    ),
    "advisor.your.advisor": ("Votre conseiller :", "Your advisor:"),
    "advisor.callback": ("Être rappelé par mon conseiller", "Have my advisor call me back"),
    "advisor.callback.done": (
        "C'est noté : votre conseiller vous rappellera. Vous n'avez rien d'autre à faire.",
        "Noted: your advisor will call you back. You have nothing else to do.",
    ),
    "advisor.fraud": (
        "Votre conseiller ne vous demandera jamais de valider une demande Sécur'Pass par téléphone, ni de lui "
        "communiquer un code. Si on vous le demande, raccrochez : c'est un fraudeur.",
        "Your advisor will never ask you to approve a Sécur'Pass request over the phone, nor to give a code. "
        "If someone asks, hang up: it is a fraudster.",
    ),
    "advisor.reason": ("Motif transmis :", "Reason passed on:"),
    "reason.changed_phone": ("je n'ai plus accès à mon numéro", "I no longer have access to my number"),
    "reason.not_my_number": ("ce n'est plus mon numéro", "it is no longer my number"),
    "reason.securpass_blocked": ("Sécur'Pass bloqué", "Sécur'Pass blocked"),
    "reason.repeated_failure": ("échecs répétés", "repeated failures"),
    "reason.securpass_move_refused": (
        "Sécur'Pass ne peut pas être activé en ligne sur ce smartphone",
        "Sécur'Pass cannot be activated online on this smartphone",
    ),
    "reason.proof_failed": (
        "le code envoyé au nouveau numéro a été mal saisi trop de fois",
        "the code sent to the new number was entered wrongly too many times",
    ),
    "reason.suspicious_call": (
        "a signalé un appel suspect se réclamant de la banque",
        "reported a suspicious call claiming to be the bank",
    ),
    "reason.other": ("autre", "other"),
    # The timeline's reasons (services.advisor.detail_key): every code an audit entry carries, in words.
    "detail.other": ("autre motif", "other reason"),
    "detail.not_me": ("« Je ne suis pas à l'origine de cette demande »", "“I did not make this request”"),
    "detail.changed_mind": ("« J'ai changé d'avis »", "“I changed my mind”"),
    "detail.not_found": ("demande introuvable", "request not found"),
    "detail.not_pending": ("demande déjà traitée", "request already dealt with"),
    "detail.expired": ("délai dépassé", "time limit passed"),
    "detail.superseded": ("remplacée par une demande plus récente", "replaced by a newer request"),
    "detail.wrong_device": ("autre smartphone que celui enrôlé", "not the enrolled smartphone"),
    "detail.bad_signature": ("signature du smartphone invalide", "invalid smartphone signature"),
    "detail.nonce_reused": ("validation rejouée", "replayed approval"),
    "detail.wrong_code": ("code Sécur'Pass erroné", "wrong Sécur'Pass code"),
    "detail.securpass_blocked": ("Sécur'Pass bloqué", "Sécur'Pass blocked"),
    "detail.number_changed": ("le numéro a changé entre-temps", "the number changed in the meantime"),
    "detail.not_eligible": ("client non éligible", "customer not eligible"),
    "detail.empty": ("numéro vide", "empty number"),
    "detail.not_a_number": ("pas un numéro", "not a number"),
    "detail.invalid": ("numéro inexistant", "number that does not exist"),
    "detail.ambiguous_territory": ("territoire à préciser", "territory to be chosen"),
    "detail.country_not_allowed": ("pays non accepté", "country not accepted"),
    "detail.landline": ("numéro fixe", "landline number"),
    "detail.voip": ("numéro VoIP", "VoIP number"),
    "detail.premium": ("numéro surtaxé", "premium-rate number"),
    "detail.shared_cost": ("numéro à coût partagé", "shared-cost number"),
    "detail.m2m": ("numéro machine à machine", "machine-to-machine number"),
    "detail.toll_free": ("numéro gratuit", "toll-free number"),
    "detail.pager": ("numéro de pager", "pager number"),
    "detail.uan": ("numéro unique d'entreprise", "universal access number"),
    "detail.personal_number": ("numéro personnel de renvoi", "personal forwarding number"),
    "detail.voicemail": ("numéro de messagerie vocale", "voicemail number"),
    "detail.other_not_mobile": ("pas un numéro de mobile", "not a mobile number"),
    "detail.same_as_current": ("numéro identique à l'actuel", "same as the current number"),
    "detail.unavailable": ("numéro déjà utilisé par un autre client", "number used by another customer"),
    "detail.frozen": ("changements en ligne gelés", "online changes frozen"),
    "detail.recent_number_change": ("numéro changé il y a moins de 72 h", "number changed less than 72 h ago"),
    "detail.factor_changed": ("facteur d'authentification changé", "authentication factor changed"),
    "detail.advisor": ("par un conseiller", "by an advisor"),
    "detail.number_unavailable": ("numéro déjà utilisé par un autre client", "number used by another customer"),
    "detail.mysys_unavailable": ("MySys indisponible", "MySys unavailable"),
    # --- the operator's fraud signals (§12.4) ------------------------------------------------------------
    "operator.current_sim_swap": (
        "Votre opérateur mobile nous signale que la carte SIM de votre numéro sécurisé a été changée il y a moins "
        "de 72 heures. Par sécurité, le changement de numéro ne peut pas se faire en ligne : votre conseiller "
        "vérifiera avec vous. Si vous n'avez pas changé de carte SIM, appelez-le sans attendre.",
        "Your mobile operator tells us that the SIM card of your secure number was changed less than 72 hours ago. "
        "For your security, the number cannot be changed online: your advisor will check with you. If you did not "
        "change your SIM card, call them at once.",
    ),
    "operator.new_number": (
        "Votre opérateur mobile nous signale un point à vérifier sur le nouveau numéro (carte SIM changée "
        "récemment, appels renvoyés, ou titulaire à un autre nom). Par sécurité, votre conseiller finalisera "
        "ce changement avec vous.",
        "Your mobile operator reports something to check on the new number (SIM card changed recently, calls "
        "forwarded, or held in another name). For your security, your advisor will complete this change with you.",
    ),
    "operator.unavailable": (
        "Nous n'avons pas pu vérifier votre numéro auprès de votre opérateur mobile pour le moment. Par sécurité, "
        "votre conseiller finalisera cette opération avec vous ; vous pouvez aussi réessayer plus tard.",
        "We could not check your number with your mobile operator just now. For your security, your advisor will "
        "complete this operation with you; you may also try again later.",
    ),
    "operator.recycled": (
        "Votre opérateur mobile nous signale que ce numéro a été attribué à un nouvel abonné. Nous n'y envoyons "
        "plus de SMS : votre conseiller vérifiera votre numéro avec vous.",
        "Your mobile operator tells us that this number has been given to a new subscriber. We no longer send "
        "SMS to it: your advisor will check your number with you.",
    ),
    "reason.operator_sim_swap": ("carte SIM du numéro sécurisé changée récemment (opérateur)",
                                 "SIM card of the secure number changed recently (operator)"),
    "reason.operator_new_number": ("signal de l'opérateur sur le nouveau numéro",
                                   "operator's signal on the new number"),
    "reason.operator_unavailable": ("opérateur mobile injoignable", "mobile operator unreachable"),
    "reason.operator_recycled": ("numéro réattribué par l'opérateur", "number reassigned by the operator"),
    "detail.current_sim_swap": ("SIM du numéro sécurisé changée récemment", "SIM of the secure number changed recently"),
    "detail.recycled": ("numéro réattribué à un nouvel abonné", "number reassigned to a new subscriber"),
    "detail.new_sim_swap": ("SIM du nouveau numéro changée récemment", "SIM of the new number changed recently"),
    "detail.new_forwarding": ("appels du nouveau numéro renvoyés", "calls to the new number forwarded"),
    "detail.kyc_mismatch": ("nouveau numéro à un autre nom", "new number in another name"),
    "detail.forwarding": ("appels vers ce numéro renvoyés", "calls to this number forwarded"),
    "detail.signal.unavailable": ("opérateur sans réponse", "no answer from the operator"),
    "tl.operator_ask": ("Opérateur mobile interrogé", "Mobile operator asked"),
    "tl.operator_check": ("Signaux de l'opérateur mobile", "Mobile operator's signals"),
    "tl.operator_check_reused": ("Signaux de l'opérateur mobile (réponse de l'instant réutilisée)",
                                 "Mobile operator's signals (the answer just given, reused)"),
    "tl.demo_operator_signal": ("Démo : signal de l'opérateur simulé", "Demo: simulated operator's signal"),
    "result.stopped": ("parcours en ligne arrêté", "online journey stopped"),
    "result.signal": ("signal relevé", "signal noted"),
    "risk.operator_signal": (
        "L'opérateur mobile a signalé un risque (carte SIM changée, renvoi d'appel, titulaire différent ou numéro "
        "réattribué)",
        "The mobile operator reported a risk (SIM card changed, call forwarding, another holder or a reassigned "
        "number)",
    ),
    "risk.check.operator_answer": (
        "Lire la réponse de l'opérateur ci-dessous et en parler avec le client, en agence.",
        "Read the operator's answer below and discuss it with the customer, in the branch.",
    ),
    "op.title": ("Signaux de l'opérateur mobile", "Mobile operator's signals"),
    "op.none": ("Aucune réponse de l'opérateur enregistrée pour ce client.",
                "No answer of the operator recorded for this customer."),
    "op.by": ("Réponse de", "Answer from"),
    "op.latency": ("temps de réponse (ms)", "response time (ms)"),
    "op.correlator": ("corrélateur", "correlator"),
    "op.attempts": ("essais", "attempts"),
    "op.purpose.change": ("changement en ligne", "online change"),
    "op.purpose.advisor_change": ("changement en agence", "in-branch change"),
    "op.purpose.activation": ("activation Sécur'Pass", "Sécur'Pass activation"),
    "op.purpose.stale_number": ("vérification du numéro", "number check"),
    "op.purpose.callback": ("avant de rappeler", "before calling back"),
    "op.subject.current": ("numéro sécurisé", "secure number"),
    "op.subject.new": ("nouveau numéro", "new number"),
    "op.subject.callback": ("numéro à rappeler", "number to call back"),
    "op.sim.changed.hours": ("SIM changée il y a {n} h", "SIM changed {n} h ago"),
    "op.sim.changed.days": ("SIM changée il y a {n} j", "SIM changed {n} days ago"),
    "op.sim.unchanged": ("Pas de changement de SIM connu", "No known SIM change"),
    "op.fwd.active": ("Renvoi d'appel inconditionnel actif", "Unconditional call forwarding active"),
    "op.fwd.inactive": ("Pas de renvoi d'appel inconditionnel", "No unconditional call forwarding"),
    "op.kyc.match": ("Titulaire de la ligne : même nom que le client", "Line holder: same name as the customer"),
    "op.kyc.mismatch": ("Titulaire de la ligne : un autre nom que le client", "Line holder: another name than the customer's"),
    "op.kyc.unknown": ("Titulaire de la ligne : inconnu de l'opérateur", "Line holder: unknown to the operator"),
    "op.recycled.yes": ("Numéro réattribué à un nouvel abonné", "Number reassigned to a new subscriber"),
    "op.recycled.no": ("Numéro non réattribué", "Number not reassigned"),
    "op.answer.none": ("Pas de réponse de l'opérateur", "No answer from the operator"),
    "op.answer.other": ("Réponse reçue", "Answer received"),
    "op.callback.title": ("Avant de rappeler le client (« Être rappelé »)",
                          "Before calling the customer back (\"Call me back\")"),
    "op.callback.check": ("Vérifier le renvoi d'appel", "Check call forwarding"),
    "op.callback.forwarded": (
        "Attention : les appels vers ce numéro sont renvoyés vers un autre téléphone. Ne donnez aucune information "
        "par ce numéro ; proposez au client de venir en agence.",
        "Warning: calls to this number are forwarded to another phone. Give no information over this number; "
        "ask the customer to come to the branch.",
    ),
    "op.callback.clear": ("Pas de renvoi d'appel sur ce numéro.", "No call forwarding on this number."),
    "op.callback.unknown": ("L'opérateur n'a pas répondu : le renvoi d'appel n'a pas pu être vérifié.",
                            "The operator did not answer: call forwarding could not be checked."),
    "op.callback.checked": ("Vérifié le", "Checked on"),
    "demo.op.title": ("Démo : signaux de l'opérateur", "Demo: operator's signals"),
    "demo.op.intro": (
        "Simule ce que l'opérateur mobile dira d'un numéro (démonstration uniquement).",
        "Simulates what the mobile operator will say about a number (demonstration only).",
    ),
    "demo.op.number": ("Numéro de mobile", "Mobile number"),
    "demo.op.kind": ("Signal", "Signal"),
    "demo.op.sim_swap": ("Carte SIM changée maintenant", "SIM card changed now"),
    "demo.op.forwarding": ("Renvoi d'appel inconditionnel activé", "Unconditional call forwarding on"),
    "demo.op.forwarding_off": ("Renvoi d'appel désactivé", "Call forwarding off"),
    "demo.op.recycled": ("Numéro réattribué à un nouvel abonné", "Number reassigned to a new subscriber"),
    "demo.op.submit": ("Appliquer", "Apply"),
    "demo.op.done": ("C'est fait : l'opérateur simulé le dira désormais.", "Done: the simulated operator now says so."),
    "demo.op.invalid": ("Saisissez un numéro de mobile valide et choisissez un signal.",
                        "Enter a valid mobile number and choose a signal."),
    # --- J3: cancelled at step 4 ------------------------------------------------------
    "j3.title": ("Vous avez changé de smartphone ?", "Have you changed smartphone?"),
    "j3.activate": ("Activer Sécur'Pass sur mon nouveau smartphone", "Activate Sécur'Pass on my new smartphone"),
    "j3.no.access": ("Je n'ai plus accès à ce numéro", "I no longer have access to this number"),
    "j3.procedure.title": ("Activer Sécur'Pass sur votre nouveau smartphone", "Activate Sécur'Pass on your new smartphone"),
    "j3.procedure.1": (
        "Installez l'application Ma Banque sur votre nouveau smartphone et ouvrez-la.",
        "Install the Ma Banque app on your new smartphone and open it.",
    ),
    "j3.procedure.2": ("Connectez-vous avec votre identifiant et votre mot de passe.", "Sign in with your identifier and password."),
    "j3.procedure.3": (
        "Un code à 8 chiffres est envoyé par SMS à votre numéro de mobile sécurisé actuel :",
        "An 8-digit code is sent by text message to your current secure mobile number:",
    ),
    "j3.procedure.4": (
        "Saisissez ce code puis choisissez votre code Sécur'Pass. Vous pourrez modifier votre numéro en ligne "
        "72 heures après l'activation.",
        "Enter that code, then choose your Sécur'Pass code. You can change your number online 72 hours after "
        "the activation.",
    ),
    "j3.open.app": ("Ouvrir l'application", "Open the app"),
    # --- J4: activation on a new phone ------------------------------------------------
    "act.title": ("Activez Sécur'Pass sur ce smartphone", "Activate Sécur'Pass on this smartphone"),
    "act.intro": (
        "C'est votre première connexion sur ce smartphone. Pour y activer Sécur'Pass, nous envoyons un code "
        "à 8 chiffres par SMS à votre numéro de mobile sécurisé :",
        "This is your first sign-in on this smartphone. To activate Sécur'Pass here, we send an 8-digit code by "
        "text message to your secure mobile number:",
    ),
    "act.send": ("Recevoir le code par SMS", "Get the code by text message"),
    "act.not.my.number": ("Ce n'est plus mon numéro", "It is no longer my number"),
    "act.code.title": ("Saisissez le code reçu par SMS", "Enter the code received by text message"),
    "act.sign.details": ("Ce que ce smartphone signe pour l'activation", "What this smartphone signs to activate"),
    "activation.refused.recent_number_change": (
        "Votre numéro de mobile sécurisé a été modifié il y a moins de 72 heures : par sécurité, Sécur'Pass ne "
        "peut pas être activé en ligne sur un nouveau smartphone pendant ce délai. Nous avons prévenu votre "
        "ancien numéro et votre adresse e-mail. Votre conseiller peut vous aider.",
        "Your secure mobile number was changed less than 72 hours ago: for your security, Sécur'Pass cannot be "
        "activated online on a new smartphone during that time. We have told your previous number and your "
        "email address. Your advisor can help you.",
    ),
    "device.throttled": (
        "Trop de smartphones enregistrés depuis cette connexion. Réessayez dans une heure.",
        "Too many smartphones registered from this connection. Try again in an hour.",
    ),
    "picker.preparing": ("Préparation de votre smartphone…", "Preparing your smartphone…"),
    "act.code.sent": ("Code envoyé au", "Code sent to"),
    "act.sms.code": ("Code reçu par SMS", "Code received by text message"),
    "act.sms.code.hint": ("8 chiffres, valable 10 minutes", "8 digits, valid for 10 minutes"),
    "act.pin": ("Choisissez votre code Sécur'Pass", "Choose your Sécur'Pass code"),
    "act.pin.hint": ("4 chiffres, que vous seul connaissez", "4 digits that only you know"),
    "act.submit": ("Activer Sécur'Pass", "Activate Sécur'Pass"),
    "act.resend": ("Recevoir un nouveau code", "Get a new code"),
    "act.done": (
        "Sécur'Pass est activé sur ce smartphone. Votre ancien smartphone ne peut plus rien valider.",
        "Sécur'Pass is activated on this smartphone. Your old smartphone can no longer approve anything.",
    ),
    "activation.not_possible": (
        "Sécur'Pass ne peut pas être activé sur ce smartphone. Contactez votre conseiller.",
        "Sécur'Pass cannot be activated on this smartphone. Contact your advisor.",
    ),
    "activation.code_format": ("Choisissez un code Sécur'Pass de 4 chiffres.", "Choose a 4-digit Sécur'Pass code."),
    "sms.no_number": (
        "Aucun numéro de mobile sécurisé n'est enregistré. Contactez votre conseiller.",
        "No secure mobile number is registered. Contact your advisor.",
    ),
    "sms.daily_limit": (
        "Vous avez demandé 3 codes en 24 heures. Réessayez demain ou contactez votre conseiller.",
        "You have asked for 3 codes in 24 hours. Try again tomorrow or contact your advisor.",
    ),
    "sms.wrong": ("Ce code n'est pas le bon. Vérifiez le SMS et réessayez.", "This code is wrong. Check the text message and try again."),
    "sms.too_many_tries": (
        "Trop de codes erronés. Par sécurité, contactez votre conseiller.",
        "Too many wrong codes. For your security, contact your advisor.",
    ),
    "sms.expired": ("Ce code a expiré. Demandez un nouveau code.", "This code has expired. Ask for a new code."),
    "sms.used": ("Ce code a déjà servi. Demandez un nouveau code.", "This code has already been used. Ask for a new code."),
    "sms.tries.left": ("Essais restants :", "Tries left:"),
    "sms.body.activation": (
        "Ma Banque : votre code d'activation Sécur'Pass est {code}. Il est valable 10 minutes. Ne le "
        "communiquez jamais, même à un conseiller.",
        "Ma Banque: your Sécur'Pass activation code is {code}. It is valid for 10 minutes. Never give it to "
        "anyone, not even an advisor.",
    ),
    "sms.body.confirm_number": (
        "Ma Banque : votre code de confirmation est {code}. Il est valable 10 minutes. Ne le communiquez "
        "jamais, même à un conseiller.",
        "Ma Banque: your confirmation code is {code}. It is valid for 10 minutes. Never give it to anyone, "
        "not even an advisor.",
    ),
    "sms.body.new_number": (
        "Ma Banque : votre code pour faire de ce numéro votre numéro de mobile sécurisé est {code}. Il est valable "
        "10 minutes. Ne le communiquez jamais, même à un conseiller.\n\n@{host} #{code}",
        "Ma Banque: your code to make this number your secure mobile number is {code}. It is valid for 10 "
        "minutes. Never give it to anyone, not even an advisor.\n\n@{host} #{code}",
    ),
    "sms.body.new_number.branch": (
        "Ma Banque : votre code pour faire de ce numéro votre numéro de mobile sécurisé est {code}. Donnez-le "
        "uniquement au conseiller qui vous reçoit en agence ; personne ne vous le demandera par téléphone.",
        "Ma Banque: your code to make this number your secure mobile number is {code}. Give it only to the "
        "advisor you are meeting in the branch; nobody will ever ask you for it on the phone.",
    ),
    # --- J7: a number not confirmed for a year ------------------------------------------
    "stale.title": ("Votre numéro de mobile sécurisé est-il toujours le", "Is your secure mobile number still"),
    "stale.qmark": (" ?", "?"),
    "stale.intro": (
        "Vous ne l'avez pas confirmé depuis plus d'un an. Il sert à sécuriser vos opérations.",
        "You have not confirmed it for more than a year. It secures your operations.",
    ),
    "stale.yes": ("Oui, c'est mon numéro", "Yes, it is my number"),
    "stale.no": ("Non, je le modifie", "No, I will change it"),
    "stale.later": ("Plus tard", "Later"),
    "stale.code.title": ("Saisissez le code reçu par SMS", "Enter the code received by text message"),
    "stale.confirm": ("Confirmer mon numéro", "Confirm my number"),
    "stale.done": ("Merci, votre numéro de mobile sécurisé est confirmé.", "Thank you, your secure mobile number is confirmed."),
    "stale.later.exhausted": (
        "Vous avez déjà reporté 3 fois : confirmez ou modifiez votre numéro.",
        "You have already postponed 3 times: confirm or change your number.",
    ),
    "notif.move.refused.subject": (
        "Tentative d'activation de Sécur'Pass refusée", "Sécur'Pass activation attempt refused"),
    "notif.move.refused": (
        "Ma Banque : le {when}, quelqu'un a tenté d'activer Sécur'Pass sur un nouveau smartphone, juste après "
        "le changement de votre numéro de mobile sécurisé. Nous l'avons refusé. Si vous n'avez pas demandé ce "
        "changement de numéro, appelez immédiatement votre conseiller au {advisor_phone}.",
        "Ma Banque: on {when}, someone tried to activate Sécur'Pass on a new smartphone right after your secure "
        "mobile number was changed. We refused it. If you did not ask for that change of number, call your "
        "advisor at once on {advisor_phone}.",
    ),
    "notif.activation.subject": ("Sécur'Pass activé sur un nouveau smartphone", "Sécur'Pass activated on a new smartphone"),
    "notif.activation": (
        "Ma Banque : le {when}, Sécur'Pass a été activé sur un nouveau smartphone ; l'ancien ne peut plus rien "
        "valider. Si ce n'est pas vous, appelez immédiatement votre conseiller au {advisor_phone}.",
        "Ma Banque: on {when}, Sécur'Pass was activated on a new smartphone; the old one can no longer approve "
        "anything. If this was not you, call your advisor at once on {advisor_phone}.",
    ),
    # --- advisor back-office (J8) -------------------------------------------------------
    "adv.login.title": ("Espace conseiller", "Advisor back-office"),
    "adv.login.id": ("Identifiant conseiller", "Advisor login"),
    "adv.login.hint": ("Par exemple sophie.lambert", "For example sophie.lambert"),
    "adv.search": ("Rechercher un client", "Find a customer"),
    "adv.search.hint": ("Nom ou identifiant (10 chiffres)", "Name or identifier (10 digits)"),
    "adv.search.submit": ("Rechercher", "Search"),
    "adv.search.none": ("Aucun client de votre agence ne correspond.", "No customer of your agency matches."),
    "adv.open": ("Ouvrir la fiche", "Open the record"),
    "adv.queue": ("Demandes de rappel", "Call-back requests"),
    "adv.queue.none": ("Aucune demande en attente.", "No pending request."),
    "adv.take": ("Prendre", "Take"),
    "adv.close": ("Clore", "Close"),
    "adv.note": ("Note", "Note"),
    "adv.taken.by": ("Prise par", "Taken by"),
    "adv.last.attempt": ("Dernière tentative :", "Last attempt:"),
    "adv.validations": ("Changements à valider (second conseiller)", "Changes to validate (second advisor)"),
    "adv.validate": ("Valider ce changement", "Validate this change"),
    "adv.requested.by": ("Saisi par", "Entered by"),
    "adv.back": ("Retour à la recherche", "Back to search"),
    "adv.sheet.number": ("Numéro de mobile sécurisé", "Secure mobile number"),
    "adv.reveal": ("Afficher le numéro complet", "Show the full number"),
    "adv.reveal.note": ("(consultation enregistrée)", "(this view is recorded)"),
    "adv.last.confirmed": ("Dernière confirmation", "Last confirmation"),
    "adv.securpass": ("Sécur'Pass", "Sécur'Pass"),
    "adv.device": ("Smartphone enregistré", "Enrolled smartphone"),
    "adv.cooling": ("Période de protection jusqu'au", "Cooling-off until"),
    "adv.none": ("aucun", "none"),
    "adv.frozen": ("Changements en ligne", "Online changes"),
    "adv.frozen.since": (
        "gelés après un refus « Je ne suis pas à l'origine de cette demande », depuis le",
        "frozen after a \"I did not make this request\" decline, since",
    ),
    "adv.op.title": ("Sécur'Pass, gel et sessions", "Sécur'Pass, freeze and sessions"),
    "adv.op.intro": (
        "En agence uniquement, pièce d'identité vérifiée ; un second conseiller valide en cas de point de "
        "vigilance. Jamais à la demande d'un appelant.",
        "In the branch only, identity document checked; a second advisor validates under a risk signal. Never "
        "at a caller's request.",
    ),
    "adv.op.kind": ("Opération", "Operation"),
    "adv.op.unblock_securpass": ("Débloquer Sécur'Pass", "Unblock Sécur'Pass"),
    "adv.op.clear_freeze": ("Lever le gel des changements en ligne", "Lift the freeze on online changes"),
    "adv.op.submit": ("Effectuer l'opération", "Carry out the operation"),
    "adv.op.done": ("Opération effectuée.", "Operation done."),
    "adv.op.pending": (
        "Opération enregistrée : un second conseiller de l'agence doit la valider.",
        "Operation recorded: a second advisor of the agency must validate it.",
    ),
    "adv.op.not_applicable": ("Cette opération ne s'applique pas à ce client.", "This operation does not apply to this customer."),
    "adv.op.already_pending": (
        "Cette opération attend déjà la validation d'un second conseiller.",
        "This operation is already waiting for a second advisor's validation.",
    ),
    "adv.op.stale": (
        "La situation du client a changé depuis cette demande (un nouveau blocage ou un nouveau gel) : "
        "vérifiez-la à nouveau en agence.",
        "The customer's situation has changed since this request (a new block or a new freeze): check it again "
        "in the branch.",
    ),
    "adv.sessions.live": ("Sessions ouvertes du client :", "Customer's open sessions:"),
    "adv.sessions.end": ("Fermer toutes les sessions du client", "Close all the customer's sessions"),
    "adv.sessions.ended": ("Les sessions du client sont fermées.", "The customer's sessions are closed."),
    "adv.history": ("Historique des changements", "Change history"),
    "adv.timeline": ("Événements récents", "Recent events"),
    "adv.failed.notifications": ("Notifications en échec :", "Failed notifications:"),
    "adv.vigilance": ("Point de vigilance : risque de fraude", "Point de vigilance: fraud risk"),
    "adv.vigilance.intro": (
        "Un fraudeur peut vous contacter à la place du client en prétextant un échec de Sécur'Pass. "
        "Ne modifiez jamais le numéro sur simple appel.",
        "A fraudster may contact you instead of the customer, claiming Sécur'Pass failed. Never change the "
        "number on the strength of a phone call.",
    ),
    "adv.vigilance.checks": ("Vérifications à faire :", "Checks to make:"),
    "adv.change.title": ("Changement en agence (process hors espace client)", "In-branch change (outside the customer area)"),
    "adv.change.intro": (
        "Uniquement avec le client présent en agence et une pièce d'identité vérifiée. Jamais à la suite d'un appel.",
        "Only with the customer present in the branch and an identity document checked. Never after a phone call.",
    ),
    "adv.change.doc.type": ("Pièce d'identité", "Identity document"),
    "adv.change.doc.number": ("Numéro de la pièce", "Document number"),
    "adv.change.in.branch": (
        "Le client est présent en agence et j'ai vérifié sa pièce d'identité",
        "The customer is in the branch and I have checked their identity document",
    ),
    "adv.change.submit": ("Enregistrer le nouveau numéro", "Save the new number"),
    "adv.change.done": ("Nouveau numéro enregistré dans MySys ; le client est prévenu.", "New number saved in MySys; the customer is notified."),
    "adv.change.pending": (
        "Signal de risque : un second conseiller de l'agence doit valider ce changement.",
        "Risk signal: a second advisor of the agency must validate this change.",
    ),
    "adv.change.proof": (
        "Un code vient d'être envoyé au nouveau numéro : demandez au client de vous le lire, ici, en agence.",
        "A code has just been sent to the new number: ask the customer to read it out to you, here, in the branch.",
    ),
    "adv.change.proof.title": ("Code reçu par le client au", "Code the customer received on"),
    "adv.change.proof.hint": (
        "Le client le lit sur le téléphone du nouveau numéro. Ne le demandez jamais par téléphone.",
        "The customer reads it on the phone of the new number. Never ask for it over the phone.",
    ),
    "adv.change.proof.resent": (
        "Un nouveau code vient d'être envoyé au nouveau numéro ; le précédent ne fonctionne plus.",
        "A new code has just been sent to the new number; the previous one no longer works.",
    ),
    "adv.change.applying": ("Validé ; l'enregistrement dans MySys est en cours.", "Validated; MySys is being updated."),
    "adv.doc.cni": ("Carte nationale d'identité", "National identity card"),
    "adv.doc.passeport": ("Passeport", "Passport"),
    "adv.doc.titre_sejour": ("Titre de séjour", "Residence permit"),
    "advisor.not_found": ("Client introuvable.", "Customer not found."),
    "advisor.contact.closed": ("Cette demande est déjà close.", "This request is already closed."),
    "advisor.change.in_branch_required": (
        "Cochez la vérification en agence : un changement ne se fait jamais à distance.",
        "Tick the in-branch check: a change is never made remotely.",
    ),
    "advisor.change.document_required": (
        "Indiquez le type et le numéro de la pièce d'identité vérifiée.",
        "Enter the type and number of the identity document checked.",
    ),
    "advisor.validation.same_advisor": (
        "Le second contrôle doit être fait par un autre conseiller de l'agence.",
        "The second check must be made by another advisor of the agency.",
    ),
    "advisor.validation.in_progress": (
        "Un autre changement de numéro de ce client est en cours d'enregistrement. Réessayez dans quelques minutes.",
        "Another change of this customer's number is being saved. Try again in a few minutes.",
    ),
    "securpass.active": ("actif", "active"),
    "securpass.blocked": ("bloqué", "blocked"),
    "securpass.none": ("non activé", "not activated"),
    "status.pending_approval": ("en attente", "pending"),
    "status.applying": ("en cours d'enregistrement", "being saved"),
    "status.completed": ("effectué", "completed"),
    "status.cancelled": ("annulé", "cancelled"),
    "status.expired": ("expiré", "expired"),
    "status.refused": ("refusé", "declined"),
    "status.superseded": ("remplacé", "superseded"),
    "status.blocked": ("bloqué", "blocked"),
    "status.failed": ("échoué", "failed"),
    "tl.login": ("Connexion", "Sign-in"),
    "tl.logout": ("Déconnexion", "Sign-out"),
    "tl.number_entered": ("Nouveau numéro saisi", "New number entered"),
    "tl.change_requested": ("Demande de changement", "Change requested"),
    "tl.proof_code_sent": ("Code envoyé au nouveau numéro", "Code sent to the new number"),
    "tl.new_number_proof": ("Nouveau numéro prouvé par son code", "New number proven by its code"),
    "tl.advisor_change_proof": ("Nouveau numéro prouvé en agence", "New number proven in the branch"),
    "tl.advisor_login": ("Connexion d'un conseiller", "Advisor sign-in"),
    "tl.change_superseded": ("Demande remplacée", "Request superseded"),
    "tl.change_cancelled": ("Demande annulée", "Request cancelled"),
    "tl.approval": ("Validation Sécur'Pass", "Sécur'Pass approval"),
    "tl.refusal": ("Refus Sécur'Pass", "Sécur'Pass decline"),
    "tl.fraud_alert": ("ALERTE : « Je ne suis pas à l'origine de cette demande »", "ALERT: \"I did not make this request\""),
    "tl.securpass_blocked": ("Sécur'Pass bloqué", "Sécur'Pass blocked"),
    "tl.change_completed": ("Changement enregistré dans MySys", "Change saved in MySys"),
    "tl.mysys_update": ("Échec MySys", "MySys failure"),
    "tl.demo_phone_picked": ("Smartphone de démonstration choisi", "Demo smartphone picked"),
    "tl.activation_code_sent": ("Code d'activation envoyé", "Activation code sent"),
    "tl.activation": ("Activation Sécur'Pass", "Sécur'Pass activation"),
    "tl.securpass_activated": ("Sécur'Pass activé sur un nouveau smartphone", "Sécur'Pass activated on a new smartphone"),
    "tl.not_my_number": ("« Ce n'est plus mon numéro »", "\"It is no longer my number\""),
    "tl.contact_requested": ("Demande de rappel", "Call-back requested"),
    "tl.contact_taken": ("Demande de rappel prise", "Call-back request taken"),
    "tl.contact_closed": ("Demande de rappel close", "Call-back request closed"),
    "tl.stale_number_later": ("Vérification du numéro reportée", "Number check postponed"),
    "tl.stale_code_sent": ("Code de vérification envoyé", "Check code sent"),
    "tl.number_confirmed": ("Numéro confirmé", "Number confirmed"),
    "tl.advisor_reveal_number": ("Numéro complet consulté par un conseiller", "Full number viewed by an advisor"),
    "tl.advisor_change": ("Changement en agence", "In-branch change"),
    "tl.advisor_validation": ("Validation par un second conseiller", "Second advisor's validation"),
    "tl.securpass_move": ("Transfert de Sécur'Pass sur un nouveau smartphone", "Sécur'Pass move to a new smartphone"),
    "tl.number_claimed_by_other": (
        "Son numéro (actuel ou récent) saisi par un autre client", "Their (current or recent) number entered by another customer"),
    "tl.online_changes_frozen": ("Changements en ligne gelés", "Online changes frozen"),
    "tl.freeze_cleared": ("Gel des changements en ligne levé", "Freeze on online changes lifted"),
    "tl.securpass_unblocked": ("Sécur'Pass débloqué en agence", "Sécur'Pass unblocked in the branch"),
    "tl.advisor_operation": ("Opération en agence", "In-branch operation"),
    "tl.sessions_ended": ("Sessions fermées par le conseiller", "Sessions closed by the advisor"),
    "tl.call_started": ("Appel du client par un conseiller (affiché dans l'application)",
                        "Advisor's call to the customer (shown in the app)"),
    "tl.call_ended": ("Fin de l'appel du conseiller", "Advisor's call ended"),
    "tl.call_reported": ("ALERTE : appel signalé comme suspect par le client", "ALERT: call reported as suspicious by the customer"),
    "tl.device_registered": ("Nouveau smartphone enregistré", "New smartphone registered"),
    "result.ok": ("réussi", "succeeded"),
    "result.refused": ("refusé", "refused"),
    "result.raised": ("levée", "raised"),
    "result.expired": ("terminé automatiquement", "ended automatically"),
    "result.locked": ("accès suspendu", "access suspended"),
    "result.rate_limited": ("limite atteinte", "limit reached"),
    "result.requested": ("saisi", "entered"),
    "result.error": ("erreur", "error"),
    "result.failed": ("échec", "failed"),
    "result.throttled": ("trop d'essais", "too many attempts"),
    "risk.not_me": ("Le client a refusé une demande : « Je ne suis pas à l'origine de cette demande »",
                    "The customer declined a request: \"I did not make this request\""),
    "risk.securpass_blocked": ("Sécur'Pass bloqué après des codes erronés", "Sécur'Pass blocked after wrong codes"),
    "risk.securpass_failed": ("Validation Sécur'Pass en échec récemment", "Recent failed Sécur'Pass approval"),
    "risk.number_shared": ("Numéro déjà sécurisé pour un autre client", "Number already secure for another customer"),
    "risk.not_my_number": ("« Ce n'est plus mon numéro » signalé", "\"It is no longer my number\" reported"),
    "risk.new_device": ("Sécur'Pass récemment transféré sur un nouveau smartphone", "Sécur'Pass recently moved to a new smartphone"),
    "risk.recent_change": ("Numéro modifié récemment", "Number changed recently"),
    "risk.securpass_move_refused": (
        "Activation de Sécur'Pass sur un nouveau smartphone refusée juste après un changement de numéro",
        "Sécur'Pass activation on a new smartphone refused right after a change of number",
    ),
    "risk.call_reported": (
        "Le client a signalé un appel se réclamant de la banque (possible faux conseiller)",
        "The customer reported a call claiming to be the bank (possible fake advisor)",
    ),
    "risk.check.identity_in_branch": (
        "Vérifier l'identité en agence, pièce d'identité originale en main.",
        "Check the identity in the branch, with the original identity document.",
    ),
    "risk.check.never_by_phone": (
        "Ne jamais modifier le numéro à la demande d'un appelant, même insistant.",
        "Never change the number at a caller's request, however insistent.",
    ),
    "risk.check.call_back_known_number": (
        "Rappeler le client sur un numéro connu de la banque, jamais sur celui donné par l'appelant.",
        "Call the customer back on a number the bank knows, never one given by the caller.",
    ),
    "risk.check.no_code_by_phone": (
        "Ne jamais demander de code ni de validation Sécur'Pass au téléphone.",
        "Never ask for a code or a Sécur'Pass approval over the phone.",
    ),
    "risk.check.password_reset": (
        "Proposer au client de changer son mot de passe : il peut être connu d'un tiers.",
        "Suggest the customer changes their password: a third party may know it.",
    ),
    "risk.check.number_holder": (
        "Vérifier que le nouveau numéro appartient bien au client (facture, contrat).",
        "Check that the new number really belongs to the customer (bill, contract).",
    ),
    "risk.check.lost_number_reason": (
        "Demander pourquoi le numéro n'est plus accessible (perte, vol, résiliation).",
        "Ask why the number can no longer be reached (lost, stolen, terminated).",
    ),
    "risk.check.device_change_reason": (
        "Vérifier que le changement de smartphone est bien le fait du client.",
        "Check that the customer really changed smartphone.",
    ),
    "risk.check.recent_change_confirmed": (
        "Vérifier avec le client que le changement récent est bien le sien.",
        "Check with the customer that the recent change was theirs.",
    ),
    "risk.check.call_reported_call_back": (
        "Rappeler le client depuis la fiche (« Appeler le client ») : son application affiche alors votre appel.",
        "Call the customer back from the sheet (\"Call the customer\"): their app then shows your call.",
    ),
    "risk.check.call_reported_operations": (
        "Vérifier avec lui ses opérations, virements et bénéficiaires récents, et s'il a donné un code.",
        "Go through their recent transactions, transfers and payees with them, and whether they gave a code.",
    ),
    # --- §12.5 « Is my bank calling me? » ----------------------------------------------------
    "call.title": ("Votre banque vous appelle-t-elle ?", "Is your bank calling you?"),
    "call.open": ("{name} ({agency}) vous appelle en ce moment.", "{name} ({agency}) is calling you right now."),
    "call.open.since": ("Appel commencé à {time}.", "Call started at {time}."),
    "call.open.advice": (
        "Même pendant cet appel, ne communiquez jamais vos codes : ni votre code Sécur'Pass, ni un code reçu par SMS.",
        "Even during this call, never give out your codes: neither your Sécur'Pass code nor a code received by SMS.",
    ),
    "call.nobody.lead": ("Personne de votre banque ne vous appelle en ce moment.",
                         "Nobody from your bank is calling you right now."),
    "call.nobody": ("Si quelqu'un prétend le contraire, raccrochez : c'est un fraudeur.",
                    "If someone claims otherwise, hang up: it is a fraudster."),
    "call.report": ("Signaler cet appel", "Report this call"),
    "call.report.hint": ("Un appui suffit : votre agence est alertée aussitôt.",
                         "One tap is enough: your branch is alerted at once."),
    "call.reported.during": (
        "Merci, votre signalement est transmis à votre agence. En cas de doute, raccrochez et rappelez votre agence "
        "au numéro indiqué sur votre contrat.",
        "Thank you, your report has been passed on to your branch. If in doubt, hang up and call your branch back on "
        "the number given in your contract.",
    ),
    "call.reported.none": (
        "Merci, votre agence est alertée. Raccrochez : votre banque ne vous demandera jamais un code, un virement ou "
        "une validation Sécur'Pass par téléphone.",
        "Thank you, your branch has been alerted. Hang up: your bank will never ask you for a code, a transfer or a "
        "Sécur'Pass approval over the phone.",
    ),
    "adv.call.title": ("Appel du client", "Calling the customer"),
    "adv.call.start": ("Appeler le client", "Call the customer"),
    "adv.call.start.hint": (
        "Pendant votre appel, l'application du client affiche votre nom : il sait que c'est bien sa banque. "
        "Composez le numéro de la fiche, et raccrochez ici à la fin de l'appel.",
        "During your call, the customer's app shows your name: they know it really is their bank. Dial the number "
        "on the record, and hang up here when the call ends.",
    ),
    "adv.call.end": ("Raccrocher", "Hang up"),
    "adv.call.mine": ("En ligne avec le client depuis {time} : son application affiche votre appel.",
                      "On the line with the customer since {time}: their app shows your call."),
    "adv.call.other": ("{name} est en ligne avec le client depuis {time}.",
                       "{name} has been on the line with the customer since {time}."),
    "adv.call.reported.now": ("Le client a signalé cet appel comme suspect.",
                              "The customer reported this call as suspicious."),
    "adv.call.reported.title": ("Alerte : appel signalé par le client", "Alert: call reported by the customer"),
    "adv.call.reported.during": ("pendant l'appel de {name}", "during {name}'s call"),
    "adv.call.reported.none": ("alors qu'aucun conseiller ne l'appelait : probable faux conseiller",
                               "while no advisor was calling: probably a fake advisor"),
    "adv.call.reported.advice": (
        "Rappelez le client depuis cette fiche (« Appeler le client ») et vérifiez avec lui ses opérations récentes.",
        "Call the customer back from this record (\"Call the customer\") and go through their recent transactions.",
    ),
    "call.busy": ("Un autre conseiller est déjà en ligne avec ce client.",
                  "Another advisor is already on the line with this customer."),
    "call.none": ("Aucun appel en cours avec ce client.", "No call in progress with this customer."),
    "call.not_yours": ("Seul le conseiller qui a appelé le client peut raccrocher.",
                       "Only the advisor who called the customer can hang up."),
    # --- notifications (server side) ----------------------------------------------------
    "notif.email.subject": (
        "Votre numéro de mobile sécurisé a été modifié",
        "Your secure mobile number has been changed",
    ),
    "notif.change": (
        "Ma Banque : le {when}, votre numéro de mobile sécurisé a été remplacé par {masked} ({channel}). "
        "Si vous n'êtes pas à l'origine de ce changement, appelez immédiatement votre conseiller au {advisor_phone}.",
        "Ma Banque: on {when}, your secure mobile number was replaced by {masked} ({channel}). "
        "If you did not make this change, call your advisor at once on {advisor_phone}.",
    ),
    "notif.email.body": (
        "Bonjour {first_name} {last_name},\n\nLe {when}, votre numéro de mobile sécurisé a été remplacé "
        "par {masked} depuis {channel}.\n\nPar sécurité, certaines opérations sensibles restent limitées "
        "jusqu'au {cooling_off}.\n\nSi vous n'êtes pas à l'origine de ce changement, appelez immédiatement "
        "votre conseiller au {advisor_phone}. Votre banque ne vous demandera jamais de valider une "
        "demande Sécur'Pass par téléphone.",
        "Hello {first_name} {last_name},\n\nOn {when}, your secure mobile number was replaced by {masked} "
        "from {channel}.\n\nFor your security, some sensitive operations stay limited until {cooling_off}."
        "\n\nIf you did not make this change, call your advisor at once on {advisor_phone}. Your bank will "
        "never ask you to approve a Sécur'Pass request over the phone.",
    ),
    "notif.welcome": (
        "Ma Banque : ce numéro est désormais votre numéro de mobile sécurisé. Vous y recevrez vos codes "
        "de sécurité. Nous ne vous demanderons jamais de code par téléphone.",
        "Ma Banque: this number is now your secure mobile number. Your security codes will be sent here. "
        "We will never ask you for a code over the phone.",
    ),
    "channel.web": ("l'espace client web", "the web customer area"),
    "channel.app": ("l'application mobile", "the mobile app"),
    "channel.advisor": ("votre agence", "your branch"),
}

_FR_SPACES = [(re.compile(r" ([:])"), "\u00a0\\1"), (re.compile(r" ([;!?])"), "\u202f\\1")]


def _french(text: str) -> str:
    for pattern, replacement in _FR_SPACES:
        text = pattern.sub(replacement, text)
    return text


MESSAGES: dict[str, dict[str, str]] = {
    "fr": {key: _french(fr) for key, (fr, _en) in _CATALOG.items()},
    "en": {key: en for key, (_fr, en) in _CATALOG.items()},
}


def normalize_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def text(key: str, lang: str | None = DEFAULT_LANG, **params: Any) -> str:
    """The text of ``key`` in ``lang``; ``params`` fill its ``{placeholders}``."""
    value = MESSAGES[normalize_lang(lang)][key]
    return value.format(**params) if params else value
