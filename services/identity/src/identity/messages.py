"""What the identity service says to people, in English and French."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "invitation_code_invalid": {
        "en": "Invitation code does not exist or has expired",
        "fr": "Le code d'invitation n'existe pas ou a expiré",
    },
    "activation_token_invalid": {
        "en": "Your activation session has ended. Enter your invitation code again.",
        "fr": "Votre session d'activation a pris fin. Saisissez à nouveau votre code d'invitation.",
    },
    "step_out_of_order": {
        "en": "Finish the earlier activation steps first.",
        "fr": "Terminez d'abord les étapes d'activation précédentes.",
    },
    "password_policy": {
        "en": "The password does not follow the rules.",
        "fr": "Le mot de passe ne respecte pas les règles.",
    },
    "terms_outdated": {
        "en": "The Terms of Use or the Privacy Policy have changed. Read and accept the "
        "current versions.",
        "fr": "Les conditions d'utilisation ou la politique de confidentialité ont changé. "
        "Lisez et acceptez les versions en vigueur.",
    },
    "terms_not_accepted": {
        "en": "Accept the Terms of Use and the Privacy Policy to continue.",
        "fr": "Acceptez les conditions d'utilisation et la politique de confidentialité pour "
        "continuer.",
    },
    "invalid_code": {
        "en": "The code is wrong or has expired. Check the latest email or ask for a new code.",
        "fr": "Le code est erroné ou a expiré. Vérifiez le dernier courriel ou demandez un "
        "nouveau code.",
    },
    "resend_too_soon": {
        "en": "A code was just sent. You can ask for a new one in {seconds} seconds.",
        "fr": "Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans "
        "{seconds} secondes.",
    },
    "too_many_attempts": {
        "en": "Too many failed attempts. Try again in {wait}.",
        "fr": "Trop de tentatives échouées. Réessayez dans {wait}.",
    },
    "invalid_credentials": {
        "en": "Wrong email address or password.",
        "fr": "Adresse courriel ou mot de passe incorrect.",
    },
    "activation_incomplete": {
        "en": "Your account is not activated yet. Finish the activation steps.",
        "fr": "Votre compte n'est pas encore activé. Terminez les étapes d'activation.",
    },
    "activation_unavailable": {
        "en": "Your invitation is no longer valid. Ask your evaluation coordinator for a new "
        "invitation.",
        "fr": "Votre invitation n'est plus valide. Demandez une nouvelle invitation à votre "
        "coordonnateur d'évaluation.",
    },
    "invalid_grant": {
        "en": "Your session has ended. Sign in again.",
        "fr": "Votre session a pris fin. Connectez-vous à nouveau.",
    },
    "reset_token_invalid": {
        "en": "This link is no longer valid. Ask for a new one from the sign-in page.",
        "fr": "Ce lien n'est plus valide. Demandez-en un nouveau depuis la page de connexion.",
    },
    "current_password_incorrect": {
        "en": "The current password is wrong.",
        "fr": "Le mot de passe actuel est incorrect.",
    },
    "reset_sent": {
        "en": "If an account uses this address, a link to choose a new password is on its "
        "way. It works for 60 minutes.",
        "fr": "Si un compte utilise cette adresse, un lien pour choisir un nouveau mot de "
        "passe est en route. Il est valable 60 minutes.",
    },
    "password_reset": {
        "en": "Your password has been changed. Sign in with the new one.",
        "fr": "Votre mot de passe a été modifié. Connectez-vous avec le nouveau.",
    },
    "password_changed": {
        "en": "Your password has been changed. Your other sessions have been signed out.",
        "fr": "Votre mot de passe a été modifié. Vos autres sessions ont été fermées.",
    },
    "session_ended": {
        "en": "Your session has ended. Sign in again.",
        "fr": "Votre session a pris fin. Connectez-vous à nouveau.",
    },
}


def say(key: str, language: str, **values: object) -> str:
    texts = MESSAGES[key]
    return texts.get(language, texts["en"]).format(**values)


def wait_words(seconds: int, language: str) -> str:
    """ "45 seconds", "3 minutes": how long to wait, in words people read at a glance."""
    if seconds < 60:
        unit = "secondes" if language == "fr" else "seconds"
        return (
            f"{seconds} {unit}"
            if seconds != 1
            else ("1 seconde" if language == "fr" else "1 second")
        )
    minutes = -(-seconds // 60)
    if minutes == 1:
        return "1 minute"
    return f"{minutes} minutes"
