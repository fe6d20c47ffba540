"""What the exams service says, in English and French, by error code."""

from __future__ import annotations

from flask import request

LANGUAGES = ("en", "fr")

MESSAGES: dict[str, dict[str, str]] = {
    # starting an exam
    "outside_start_window": {
        "en": "This exam cannot be started now. It can be started from its start time and "
        "for {start_window_minutes} minutes after.",
        "fr": "Cet examen ne peut pas être commencé maintenant. Il peut l'être à partir de "
        "son heure de début et pendant {start_window_minutes} minutes ensuite.",
    },
    "device_check_required": {
        "en": "Validate your device before starting this exam.",
        "fr": "Validez votre appareil avant de commencer cet examen.",
    },
    "technical_test_required": {
        "en": "Take the technical test before starting this exam.",
        "fr": "Faites le test technique avant de commencer cet examen.",
    },
    "screen_share_required": {
        "en": "Share your entire screen, not a window or a tab, to start the exam.",
        "fr": "Partagez votre écran entier, et non une fenêtre ou un onglet, pour commencer "
        "l'examen.",
    },
    "webcam_required": {
        "en": "Turn on your webcam to start the exam.",
        "fr": "Activez votre webcam pour commencer l'examen.",
    },
    "terms_not_accepted": {
        "en": "Accept the exam terms to start the exam.",
        "fr": "Acceptez les conditions de l'examen pour commencer l'examen.",
    },
    # during an attempt
    "already_submitted": {
        "en": "Your copy for this exam has already been submitted.",
        "fr": "Votre copie pour cet examen a déjà été remise.",
    },
    "time_over": {
        "en": "The time for this exam is over. Your last saved answer is kept; submit it now.",
        "fr": "Le temps de cet examen est écoulé. Votre dernière réponse enregistrée est "
        "conservée ; remettez-la maintenant.",
    },
    "stale_revision": {
        "en": "Your answer was changed elsewhere, in another tab or on another device. Reload "
        "the page to continue from the latest version.",
        "fr": "Votre réponse a été modifiée ailleurs, dans un autre onglet ou sur un autre "
        "appareil. Rechargez la page pour continuer à partir de la dernière version.",
    },
    "answer_too_large": {
        "en": "Your answer is too long to be saved (at most {max_bytes} bytes).",
        "fr": "Votre réponse est trop longue pour être enregistrée (au plus {max_bytes} octets).",
    },
    "too_many_events": {
        "en": "Too many events were reported for this attempt.",
        "fr": "Trop d'événements ont été signalés pour cette tentative.",
    },
    "document_not_available": {
        "en": "The exam subject is not available yet. Tell your evaluation coordinator.",
        "fr": "Le sujet de l'examen n'est pas encore disponible. Prévenez votre coordonnateur "
        "d'évaluation.",
    },
    "exam_not_found": {
        "en": "No such exam.",
        "fr": "Cet examen n'existe pas.",
    },
    "attempt_not_found": {
        "en": "No such exam attempt.",
        "fr": "Cette tentative d'examen n'existe pas.",
    },
    "not_a_candidate": {
        "en": "This token does not name a candidate's account.",
        "fr": "Ce jeton ne désigne pas le compte d'un candidat.",
    },
    # the coordinator's side
    "evaluation_not_found": {
        "en": "No such evaluation. Create it first with PUT /api/v1/evaluations/{{ref}}.",
        "fr": "Cette évaluation n'existe pas. Créez-la d'abord avec "
        "PUT /api/v1/evaluations/{{ref}}.",
    },
    "copy_not_found": {
        "en": "No such copy.",
        "fr": "Cette copie n'existe pas.",
    },
    "document_not_pdf": {
        "en": "The document is not a PDF file.",
        "fr": "Le document n'est pas un fichier PDF.",
    },
    "unsupported_media_type": {
        "en": "Send the document as application/pdf.",
        "fr": "Envoyez le document en tant qu'application/pdf.",
    },
    "document_too_large": {
        "en": "The document is too large (at most {max_bytes} bytes).",
        "fr": "Le document est trop volumineux (au plus {max_bytes} octets).",
    },
    "exam_already_started": {
        "en": "Candidates have started this exam; its subject can no longer be replaced.",
        "fr": "Des candidats ont commencé cet examen ; son sujet ne peut plus être remplacé.",
    },
    "forbidden": {
        "en": "This token is not tied to an institution.",
        "fr": "Ce jeton n'est rattaché à aucun établissement.",
    },
}


def say(key: str, language: str, **values: object) -> str:
    texts = MESSAGES[key]
    return texts.get(language, texts["en"]).format(**values)


def request_language() -> str:
    return request.accept_languages.best_match(LANGUAGES) or "en"
