"""检查表 (industry checklists): templates as data files, their loading and validation, and scoring.

Pure code: no database and no Flask here. The API and sync layers store template versions and
inspections; this package says what a template means and how answers are judged.
"""

from .definition import (
    INDUSTRIES,
    AnswerSpec,
    Basis,
    Evidence,
    Item,
    Option,
    Section,
    Source,
    Template,
    TemplateInvalid,
    content_hash,
    find_template,
    load_all,
    load_template,
    templates_for,
    validate_all,
)
from .scoring import AnswerIn, HazardDraft, ScoreResult, score

__all__ = [
    "INDUSTRIES",
    "AnswerSpec",
    "Basis",
    "Evidence",
    "Item",
    "Option",
    "Section",
    "Source",
    "Template",
    "TemplateInvalid",
    "content_hash",
    "find_template",
    "load_all",
    "load_template",
    "templates_for",
    "validate_all",
    "AnswerIn",
    "HazardDraft",
    "ScoreResult",
    "score",
]
