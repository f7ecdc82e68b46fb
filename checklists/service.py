"""Checklist templates in the database: publishing the files (idempotent, immutable versions),
reads for the API, and the exact version an inspection names, ready for scoring."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from checklists.definition import INDUSTRIES, Template, content_hash, load_all
from checklists.models import ChecklistTemplate
from core.clock import Clock
from core.errors import Conflict, FieldError, NotFound, UnknownReference, ValidationFailed


class PublishedVersionEdited(Conflict):
    code = "checklist.version_edited"
    title = "已发布的检查表版本不可修改，请发布新版本"


@dataclass
class PublishReport:
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"checklists: {len(self.published)} published, {len(self.unchanged)} unchanged, "
            f"{len(self.withdrawn)} withdrawn"
        )


def publish_templates(session: Session, clock: Clock, templates: list[Template] | None = None) -> PublishReport:
    """Bring the database in line with the template files.

    A new (code, version) is published; an existing one must hash the same (a published version
    never changes: changing a template means a new version file); a file marked ``withdrawn``
    withdraws its row. Versions absent from the files stay readable in the database forever.
    Refuses the whole publication if any published version was edited."""
    templates = load_all() if templates is None else templates
    existing = {(row.code, row.version): row for row in session.scalars(select(ChecklistTemplate))}
    report = PublishReport()
    edited = []
    now = clock.now()
    for template in templates:
        key = f"{template.code} v{template.version}"
        digest = content_hash(template)
        row = existing.get((template.code, template.version))
        if row is None:
            session.add(
                ChecklistTemplate(
                    code=template.code,
                    version=template.version,
                    industry=template.industry,
                    subtypes=list(template.subtypes),
                    title=template.title,
                    status=template.status,
                    content=template.as_dict(),
                    content_hash=digest,
                    item_count=len(template.items),
                    major_count=len(template.major_items),
                    published_at=now,
                    withdrawn_at=now if template.status == "withdrawn" else None,
                )
            )
            report.published.append(key)
        elif row.content_hash != digest:
            edited.append(
                FieldError(
                    "checklist.version_edited",
                    key,
                    f"{template.path.name if template.path else key}：第 {template.version} 版已发布"
                    "（内容哈希已记录），不可修改；请复制为新版本文件并提高 version",
                )
            )
        elif template.status == "withdrawn" and row.status != "withdrawn":
            row.status, row.withdrawn_at = "withdrawn", now
            row.content = template.as_dict()
            report.withdrawn.append(key)
        else:
            report.unchanged.append(key)
    if edited:
        raise PublishedVersionEdited(edited[0].message, errors=edited)
    session.flush()
    return report


def _summary_columns():
    return (
        ChecklistTemplate.code,
        ChecklistTemplate.version,
        ChecklistTemplate.industry,
        ChecklistTemplate.subtypes,
        ChecklistTemplate.title,
        ChecklistTemplate.status,
        ChecklistTemplate.content_hash,
        ChecklistTemplate.item_count,
        ChecklistTemplate.major_count,
        ChecklistTemplate.published_at,
    )


def list_latest(session: Session, *, industry: str | None = None, subtype: str | None = None) -> list[dict]:
    """The latest published version of each template (withdrawn versions are no longer handed out)."""
    if industry is not None and industry not in INDUSTRIES:
        raise ValidationFailed(errors=[FieldError("validation", "industry", f"未知行业代码 “{industry}”")])
    stmt = (
        select(*_summary_columns())
        .where(ChecklistTemplate.status == "published")
        .distinct(ChecklistTemplate.code)
        .order_by(ChecklistTemplate.code, ChecklistTemplate.version.desc())
    )
    if industry:
        stmt = stmt.where(ChecklistTemplate.industry == industry)
    if subtype:
        stmt = stmt.where(ChecklistTemplate.subtypes.any(subtype))
    return [dict(row._mapping) for row in session.execute(stmt)]


def get_version(session: Session, code: str, version: int | None = None) -> ChecklistTemplate:
    """A given version (readable forever, withdrawn or not), or the latest published one."""
    stmt = select(ChecklistTemplate).where(ChecklistTemplate.code == code)
    if version is None:
        stmt = stmt.where(ChecklistTemplate.status == "published").order_by(ChecklistTemplate.version.desc()).limit(1)
    else:
        stmt = stmt.where(ChecklistTemplate.version == version)
    row = session.scalar(stmt)
    if row is None:
        what = f"{code} 第 {version} 版" if version is not None else f"{code}（已发布版本）"
        raise NotFound(f"检查表模板 {what} 不存在", code="checklist.not_found")
    return row


def template_for_inspection(session: Session, code: str, version: int) -> Template:
    """The exact version an inspection names, for scoring. Withdrawn versions still count:
    inspections recorded offline against them are accepted (SYNC_PROTOCOL.md §3).

    Only the content hash is read per call; the content itself (tens of KB of JSON) only the first
    time a process meets that hash. A push batch names the same few templates hundreds of times."""
    where = (ChecklistTemplate.code == code, ChecklistTemplate.version == version)
    digest = session.scalar(select(ChecklistTemplate.content_hash).where(*where))
    if digest is None:
        raise UnknownReference(
            f"检查表模板 {code} 第 {version} 版在服务器上不存在",
            errors=[FieldError("sync.unknown_reference", "checklist", f"{code} v{version}")],
        )
    template = _BY_DIGEST.get(digest)
    if template is None:
        template = template_from_content(digest, session.scalar(select(ChecklistTemplate.content).where(*where)))
    return template


# content hash -> Template. The hash is SHA-256 of the content and a version's content never changes
# (a trigger refuses it), so an entry can never be stale, whichever database it was read from.
_BY_DIGEST: dict[str, Template] = {}
_BY_DIGEST_MAX = 256


def template_from_content(digest: str, content: dict) -> Template:
    """Rebuild the Template from its stored ``as_dict`` form (cached by content hash: versions never change)."""
    template = _BY_DIGEST.get(digest)
    if template is None:
        if len(_BY_DIGEST) >= _BY_DIGEST_MAX:
            _BY_DIGEST.clear()
        template = _BY_DIGEST[digest] = Template.from_dict(content)
    return template
