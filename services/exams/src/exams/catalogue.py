"""Exams as they are read: one query shape (the exam, its evaluation, its subject's metadata
but never its bytes) and the rules' view of a row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Row, Select, select

from exams.domain import Requirements, Schedule
from exams.store import evaluations, exam_documents, exams


def exam_select() -> Select[Any]:
    return select(
        exams,
        evaluations.c.ref.label("evaluation_ref"),
        evaluations.c.name.label("evaluation_name"),
        exam_documents.c.size.label("document_size"),
        exam_documents.c.sha256.label("document_sha256"),
        exam_documents.c.uploaded_at.label("document_uploaded_at"),
    ).select_from(
        exams.outerjoin(evaluations, evaluations.c.id == exams.c.evaluation_id).outerjoin(
            exam_documents, exam_documents.c.exam_id == exams.c.id
        )
    )


def schedule_of(exam: Row[Any]) -> Schedule:
    return Schedule(
        starts_at=exam.starts_at,
        duration=timedelta(minutes=exam.duration_minutes),
        start_window=timedelta(minutes=exam.start_window_minutes),
    )


def requirements_of(exam: Row[Any]) -> Requirements:
    return Requirements(
        screen_share=exam.requires_screen_share,
        webcam=exam.requires_webcam,
        device_check=exam.requires_device_check,
        technical_test=exam.requires_technical_test,
    )


def exam_view(exam: Row[Any]) -> dict[str, Any]:
    """An exam as the API shows it, to coordinators and candidates alike."""
    schedule = schedule_of(exam)
    return {
        "id": exam.id,
        "kind": exam.kind,
        "title": exam.title,
        "evaluation": (
            {"ref": exam.evaluation_ref, "name": exam.evaluation_name}
            if exam.evaluation_ref is not None
            else None
        ),
        "starts_at": exam.starts_at,
        "start_closes_at": schedule.start_closes_at,
        "ends_at": schedule.latest_end,
        "duration_minutes": exam.duration_minutes,
        "start_window_minutes": exam.start_window_minutes,
        "requires": requirements_of(exam).as_dict(),
        "document": (
            {
                "size": exam.document_size,
                "sha256": exam.document_sha256,
                "uploaded_at": exam.document_uploaded_at,
            }
            if exam.document_size is not None
            else None
        ),
        "created_at": exam.created_at,
    }
