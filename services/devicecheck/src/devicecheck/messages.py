"""What the device check says to candidates, in English and French: refusals, and for each
failed check what went wrong and what to do about it."""

from __future__ import annotations

from typing import Any

from devicecheck.judging import Failure

MESSAGES: dict[str, dict[str, str]] = {
    "device_check_not_found": {
        "en": "This device check does not exist. Start a new one.",
        "fr": "Cette vérification de l'appareil n'existe pas. Commencez-en une nouvelle.",
    },
    "no_device_check": {
        "en": "You have not finished a device check yet. Validate your device.",
        "fr": "Vous n'avez pas encore terminé de vérification de l'appareil. "
        "Validez votre appareil.",
    },
    "device_check_judged": {
        "en": "This device check already has its result. Start a new check to test your "
        "device again.",
        "fr": "Cette vérification de l'appareil a déjà son résultat. Commencez une nouvelle "
        "vérification pour tester à nouveau votre appareil.",
    },
    "stale_revision": {
        "en": "A newer version of your text was saved meanwhile. Reload it before saving again.",
        "fr": "Une version plus récente de votre texte a été enregistrée entre-temps. "
        "Rechargez-la avant d'enregistrer à nouveau.",
    },
    "rate_limited": {
        "en": "Too many device check requests. Try again in {wait}.",
        "fr": "Trop de requêtes de vérification de l'appareil. Réessayez dans {wait}.",
    },
    "upload_too_large": {
        "en": "The test upload is too large: at most {limit} bytes are accepted.",
        "fr": "L'envoi de test est trop volumineux : au plus {limit} octets sont acceptés.",
    },
    "not_an_account": {
        "en": "This token does not name an account.",
        "fr": "Ce jeton ne désigne aucun compte.",
    },
}

_AGAIN = {"en": "then run the check again.", "fr": "puis relancez la vérification."}
_CABLE = {
    "en": "Connect by cable or move closer to the router",
    "fr": "Branchez-vous par câble ou rapprochez-vous du routeur",
}
_NOT_MEASURED_ADVICE = {
    "en": "Keep this page open until the check ends; if this happens again, check your "
    "connection, " + _AGAIN["en"],
    "fr": "Gardez cette page ouverte jusqu'à la fin de la vérification ; si cela se "
    "reproduit, vérifiez votre connexion, " + _AGAIN["fr"],
}

#: (check, reason) -> language -> (message, advice)
FAILURES: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("screen_share", "not_shared"): {
        "en": (
            "Your screen was not shared.",
            'Allow screen sharing and choose "Entire screen", not a window or a tab.',
        ),
        "fr": (
            "Votre écran n'a pas été partagé.",
            "Autorisez le partage d'écran et choisissez « Écran entier », pas une fenêtre "
            "ni un onglet.",
        ),
    },
    ("screen_share", "not_entire_screen"): {
        "en": (
            "You shared a window or a browser tab, not your entire screen.",
            'Share your entire screen, not a window or a tab: choose "Entire screen" when '
            "the browser asks.",
        ),
        "fr": (
            "Vous avez partagé une fenêtre ou un onglet, pas votre écran entier.",
            "Partagez votre écran entier, pas une fenêtre ni un onglet : choisissez « Écran "
            "entier » quand le navigateur le demande.",
        ),
    },
    ("webcam", "not_live"): {
        "en": (
            "The webcam gave no live image.",
            "Close other applications using the camera (video calls, the camera app), allow "
            "the camera for this site, " + _AGAIN["en"],
        ),
        "fr": (
            "La webcam n'a transmis aucune image en direct.",
            "Fermez les autres applications qui utilisent la caméra (appels vidéo, "
            "application Caméra), autorisez la caméra pour ce site, " + _AGAIN["fr"],
        ),
    },
    ("webcam", "resolution_too_low"): {
        "en": (
            "The webcam's image is {width}x{height}; at least {min_width}x{min_height} is "
            "required.",
            "Close other applications using the camera, which can lower its resolution, or "
            "use a camera that films at least {min_width}x{min_height}.",
        ),
        "fr": (
            "L'image de la webcam est de {width}x{height} ; il faut au moins "
            "{min_width}x{min_height}.",
            "Fermez les autres applications qui utilisent la caméra, qui peuvent en réduire "
            "la résolution, ou utilisez une caméra qui filme en au moins "
            "{min_width}x{min_height}.",
        ),
    },
    ("download", "too_slow"): {
        "en": (
            "The download speed is {measured} Mbps; at least {required} Mbps is required.",
            _CABLE["en"] + ", and stop other downloads and video streaming.",
        ),
        "fr": (
            "Le débit descendant est de {measured} Mbit/s ; il faut au moins {required} Mbit/s.",
            _CABLE["fr"] + ", et arrêtez les autres téléchargements et les vidéos en streaming.",
        ),
    },
    ("download", "not_measured"): {
        "en": ("The download speed could not be measured.", _NOT_MEASURED_ADVICE["en"]),
        "fr": ("Le débit descendant n'a pas pu être mesuré.", _NOT_MEASURED_ADVICE["fr"]),
    },
    ("upload", "too_slow"): {
        "en": (
            "The upload speed is {measured} Mbps; at least {required} Mbps is required.",
            _CABLE["en"] + ", and pause cloud backups and other uploads.",
        ),
        "fr": (
            "Le débit montant est de {measured} Mbit/s ; il faut au moins {required} Mbit/s.",
            _CABLE["fr"] + ", et suspendez les sauvegardes en ligne et les autres envois.",
        ),
    },
    ("upload", "not_measured"): {
        "en": ("The upload speed could not be measured.", _NOT_MEASURED_ADVICE["en"]),
        "fr": ("Le débit montant n'a pas pu être mesuré.", _NOT_MEASURED_ADVICE["fr"]),
    },
    ("latency", "too_high"): {
        "en": (
            "The connection's latency is {measured} ms; at most {allowed} ms is allowed.",
            _CABLE["en"] + ", and close applications that use the connection (video calls, "
            "downloads).",
        ),
        "fr": (
            "La latence de la connexion est de {measured} ms ; elle ne doit pas dépasser "
            "{allowed} ms.",
            _CABLE["fr"] + ", et fermez les applications qui utilisent la connexion (appels "
            "vidéo, téléchargements).",
        ),
    },
    ("latency", "not_measured"): {
        "en": ("The connection's latency could not be measured.", _NOT_MEASURED_ADVICE["en"]),
        "fr": ("La latence de la connexion n'a pas pu être mesurée.", _NOT_MEASURED_ADVICE["fr"]),
    },
    ("document", "not_displayed"): {
        "en": (
            "The sample document was not displayed.",
            "Let the browser display PDF documents instead of downloading them (in Chrome: "
            "Settings, Privacy and security, Site settings, PDF documents), " + _AGAIN["en"],
        ),
        "fr": (
            "Le document d'exemple ne s'est pas affiché.",
            "Laissez le navigateur afficher les documents PDF au lieu de les télécharger "
            "(dans Chrome : Paramètres, Confidentialité et sécurité, Paramètres des sites, "
            "Documents PDF), " + _AGAIN["fr"],
        ),
    },
    ("writing", "not_typed"): {
        "en": (
            "Typing in the writing area did not work.",
            "Click in the writing area and type the sentence shown; if keys do not respond, "
            "turn off browser extensions that change pages, " + _AGAIN["en"],
        ),
        "fr": (
            "La saisie dans la zone de rédaction n'a pas fonctionné.",
            "Cliquez dans la zone de rédaction et tapez la phrase affichée ; si les touches "
            "ne répondent pas, désactivez les extensions du navigateur qui modifient les "
            "pages, " + _AGAIN["fr"],
        ),
    },
    ("writing", "autosave_failed"): {
        "en": (
            "Your text could not be saved automatically.",
            "Check that your connection is stable and that no extension, firewall or proxy "
            "blocks the platform, " + _AGAIN["en"],
        ),
        "fr": (
            "Votre texte n'a pas pu être enregistré automatiquement.",
            "Vérifiez que votre connexion est stable et qu'aucune extension, aucun pare-feu "
            "ni aucun proxy ne bloque la plateforme, " + _AGAIN["fr"],
        ),
    },
    ("browser", "not_supported"): {
        "en": (
            "{name} {version} is not supported for exams.",
            "Use {allowed}: open the platform in it and run the check again.",
        ),
        "fr": (
            "{name} {version} n'est pas pris en charge pour les examens.",
            "Utilisez {allowed} : ouvrez la plateforme dans ce navigateur et relancez la "
            "vérification.",
        ),
    },
}


def say(key: str, language: str, **values: object) -> str:
    texts = MESSAGES[key]
    return texts.get(language, texts["en"]).format(**values)


def explain(failure: Failure, language: str) -> dict[str, str]:
    """A failed check as the candidate reads it: what went wrong and what to do."""
    texts = FAILURES[(failure.check, failure.reason)]
    message, advice = texts.get(language, texts["en"])
    values = {name: _shown(value, language) for name, value in failure.values.items()}
    return {
        "check": failure.check,
        "reason": failure.reason,
        "message": message.format(**values),
        "advice": advice.format(**values),
    }


def seconds_words(seconds: int, language: str) -> str:
    """ "1 second", "45 secondes": how long to wait."""
    if language == "fr":
        return f"{seconds} seconde" if seconds == 1 else f"{seconds} secondes"
    return f"{seconds} second" if seconds == 1 else f"{seconds} seconds"


def _shown(value: Any, language: str) -> str:
    if isinstance(value, list):  # browser names from the settings: "Chrome or Chromium"
        names = [str(v).title() for v in value]
        joiner = " ou " if language == "fr" else " or "
        return joiner.join(names) if len(names) <= 2 else ", ".join(names[:-1]) + joiner + names[-1]
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if language == "fr" else text
    return str(value)
