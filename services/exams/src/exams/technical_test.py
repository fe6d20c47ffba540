"""The technical test: one practice exam for the whole platform, always open. It tries the
candidate's set-up (screen and webcam sharing, the subject's display, writing, submitting),
which belongs to the person and their computer, not to an institution; so it is global, and
"done" once, like the device check. Its row and its subject are made on first use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exams.domain import TECHNICAL_TEST_ID, Kind, document_digest
from exams.store import exam_documents, exams, insert_new

TITLE = "Technical test"
SUBJECT_LINES = (
    "Nexam technical test - Test technique Nexam",
    "This practice exam checks that your computer is ready for an exam.",
    "Write a few words in the answer area, then submit your copy.",
    "Cet examen d'essai verifie que votre ordinateur est pret pour un examen.",
    "Ecrivez quelques mots dans la zone de reponse, puis remettez votre copie.",
)


def subject_pdf(lines: tuple[str, ...] = SUBJECT_LINES) -> bytes:
    """A one-page PDF with ``lines`` in Helvetica (ASCII only, as written)."""
    text = "BT /F1 14 Tf 72 760 Td 18 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines
    )
    stream = text.encode("ascii") + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def ensure_technical_test(session: Session, minutes: int, now: datetime) -> None:
    """The technical test's row and subject, inserted by whoever needs them first."""
    known = select(exams.c.duration_minutes).where(exams.c.id == TECHNICAL_TEST_ID)
    duration = session.scalar(known)
    if duration is not None:
        if duration != minutes:  # the setting changed since the row was made
            session.execute(
                update(exams)
                .where(exams.c.id == TECHNICAL_TEST_ID)
                .values(duration_minutes=minutes)
            )
        return
    insert_new(
        session,
        exams,
        {
            "id": TECHNICAL_TEST_ID,
            "kind": Kind.TECHNICAL_TEST.value,
            "institution_id": None,
            "evaluation_id": None,
            "title": TITLE,
            "starts_at": None,
            "duration_minutes": minutes,
            "start_window_minutes": 0,
            "requires_screen_share": True,
            "requires_webcam": True,
            "requires_device_check": True,
            "requires_technical_test": False,
            "created_at": now,
        },
        "id",
    )
    pdf = subject_pdf()
    insert_new(
        session,
        exam_documents,
        {
            "exam_id": TECHNICAL_TEST_ID,
            "content": pdf,
            "size": len(pdf),
            "sha256": document_digest(pdf),
            "uploaded_at": now,
        },
        "exam_id",
    )
