"""Boundary import (边界导入): towns and villages from a GeoJSON FeatureCollection.

Each feature has ``properties.code`` (12-digit statistical division code), ``name`` and optionally
``parent_code`` and ``level``; both follow from the code (a village ``…XXXYYY`` belongs to the town
``…XXX000``, a town to the district ``…000000``), and are refused when given otherwise.

The features go through a staging table and set-based SQL: structure and CRS are checked in Python
(:mod:`geo.geometry`), validity by PostGIS (exact repairs only, reported), parents resolved from the
file or the database (towns first, so the ltree path is built top-down), and each feature is classed
created / updated / unchanged (same name, ``ST_Equals`` geometry) / refused. Importing the same file
again changes nothing.

All or nothing: a file with any refused feature writes nothing and answers 422 with every refusal,
unless ``partial`` is asked for; then the accepted features are written (a village whose town was
refused is refused too) and the refusals reported. A desk officer imports only below their own
region; the command line (``principal=None``) imports anywhere. After writing, enterprises in the
changed villages (old ∪ new boundaries) are placed again."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from accounts.principal import Principal
from audit.service import record as audit
from core.clock import Clock
from core.errors import FieldError, Forbidden, ValidationFailed
from geo.geometry import REPAIR_MESSAGES, VALIDATE_LATERAL, Problem, check_structure, crs_from_member, postgis_reason
from enterprises.placement import place_enterprises

STAGING = "boundary_import"
CHUNK = 500  # features per validation statement (and per progress step)
CODE = re.compile(r"^[0-9]{12}$")
PARENT_LEVEL = {"town": "district", "village": "town"}
LEVEL_NAMES = {"district": "区县", "town": "乡镇/街道", "village": "村/社区"}

# Refusals found in Python; those found in SQL (geo.unknown_parent, geo.parent_refused,
# geo.existing_conflict) are worded in the statements of _resolve.
MESSAGES = {
    "geo.bad_code": "区划代码应为 12 位数字：{value}",
    "geo.missing_name": "缺少名称（properties.name）",
    "geo.name_too_long": "名称超过 100 个字符",
    "geo.not_a_feature": "不是 GeoJSON Feature",
    "geo.duplicate_code": "文件中区划代码 {code} 出现 {count} 次",
    "geo.unsupported_level": "只能导入乡镇/街道和村/社区，{code} 是{level}",
    "geo.level_mismatch": "level 应为 {expected}，文件中为 {given}",
    "geo.parent_mismatch": "上级代码应为 {expected}（由区划代码推出），文件中为 {given}",
}


@dataclass
class Refusal:
    index: int
    code: str | None
    name: str | None
    reason: str
    message: str

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "code": self.code,
            "name": self.name,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass
class ImportReport:
    written: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    repaired: list[dict] = field(default_factory=list)
    enterprises_relocated: int = 0

    @property
    def counts(self) -> dict:
        return {
            "features": len(self.created) + len(self.updated) + len(self.unchanged) + len(self.refused),
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "refused": len(self.refused),
            "repaired": len(self.repaired),
        }

    def as_dict(self) -> dict:
        return {
            "written": self.written,
            "counts": self.counts,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": [r.as_dict() for r in self.refused],
            "repaired": self.repaired,
            "enterprises_relocated": self.enterprises_relocated,
        }

    def describe(self) -> str:
        c = self.counts
        lines = [
            f"{c['features']} features: {c['created']} created, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['refused']} refused, {c['repaired']} repaired; "
            f"{self.enterprises_relocated} enterprises relocated" + ("" if self.written else " — nothing written")
        ]
        lines += [f"  refused {r.code or '#' + str(r.index)}: {r.message} ({r.reason})" for r in self.refused]
        lines += [f"  repaired {r['code']}: {r['message']}" for r in self.repaired]
        return "\n".join(lines)


def level_of(code: str) -> str:
    if code[9:] != "000":
        return "village"
    if code[6:9] != "000":
        return "town"
    return "district"


def parent_code_of(code: str) -> str:
    return code[:9] + "000" if level_of(code) == "village" else code[:6] + "000000"


def import_boundaries(
    session: Session,
    clock: Clock,
    principal: Principal | None,
    collection: dict,
    *,
    partial: bool = False,
    crs: str = "wgs84",
    progress: Callable[[int], object] | None = None,
) -> ImportReport:
    """Import a FeatureCollection of towns and villages (see the module docstring). Raises
    ValidationFailed (``geo.import_refused``, the report in ``extra``) when features are refused
    and ``partial`` is false; flushes, never commits."""
    if principal is not None and not principal.has("desk_officer", "admin"):
        raise Forbidden("只有内勤或管理员可以导入边界")
    features, crs = _features(collection, crs)
    rows = [_row(n, feature, crs) for n, feature in enumerate(features)]
    _refuse_duplicates(rows)

    session.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
    session.execute(
        text(f"""
        CREATE TEMP TABLE {STAGING} (
            idx int PRIMARY KEY, code text, name text, level text, parent_code text, geojson text,
            geometry geometry(MultiPolygon, 4326), made_valid boolean, rewound boolean,
            refusal text, message text, parent_id uuid, parent_path ltree,
            existing_id uuid, status text
        ) ON COMMIT DROP""")
    )
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        session.execute(
            text(f"""
            INSERT INTO {STAGING} (idx, code, name, level, parent_code, geojson, refusal, message)
            SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                AS r(idx int, code text, name text, level text, parent_code text, geojson text,
                     refusal text, message text)"""),
            {"rows": json.dumps(chunk, ensure_ascii=False)},
        )
        _validate(session, start, start + len(chunk) - 1)
        if progress:
            progress(len(chunk))

    _resolve(session, principal)
    report = _report(session)
    if report.refused and not partial:
        session.execute(text(f"DROP TABLE {STAGING}"))
        first = report.refused[:200]
        raise ValidationFailed(
            f"{len(report.refused)} 个区划未通过检查，本次未导入任何区划（可用 partial=true 只导入通过的部分）",
            code="geo.import_refused",
            errors=[FieldError(r.reason, f"features.{r.index}", f"{r.code or ''} {r.message}".strip()) for r in first],
            extra={"report": report.as_dict()},
        )

    area = _changed_villages_area(session)
    _write(session, clock)
    report.written = bool(report.created or report.updated)
    if area is not None:
        report.enterprises_relocated = place_enterprises(session, area=area, at=clock.now())
    session.execute(text(f"DROP TABLE {STAGING}"))
    if report.created or report.updated:
        audit(
            session,
            clock,
            principal,
            "import",
            "region",
            None,
            {
                "created": report.created,
                "updated": report.updated,
                "unchanged": len(report.unchanged),
                "refused": [r.as_dict() for r in report.refused],
                "repaired": report.repaired,
                "enterprises_relocated": report.enterprises_relocated,
            },
        )
    return report


def _features(collection, crs: str) -> tuple[list, str]:
    if (
        not isinstance(collection, dict)
        or collection.get("type") != "FeatureCollection"
        or not isinstance(collection.get("features"), list)
    ):
        raise ValidationFailed("文件应为 GeoJSON FeatureCollection", code="geo.not_a_feature_collection")
    named, problem = crs_from_member(collection.get("crs"), crs)
    if problem:
        raise ValidationFailed(
            problem.message, code=problem.code, errors=[FieldError(problem.code, "crs", problem.message)]
        )
    if not collection["features"]:
        raise ValidationFailed("文件中没有区划", code="geo.empty_import")
    return collection["features"], named


def _row(n: int, feature, crs: str) -> dict:
    """One staging row; structural problems already set as the refusal."""
    row = {
        "idx": n,
        "code": None,
        "name": None,
        "level": None,
        "parent_code": None,
        "geojson": None,
        "refusal": None,
        "message": None,
    }

    def refuse(problem: Problem) -> dict:
        row.update(refusal=problem.code, message=problem.message)
        return row

    # RFC 7946 §3.2: properties is an object or null.
    if (
        not isinstance(feature, dict)
        or feature.get("type") != "Feature"
        or not isinstance(feature.get("properties"), (dict, type(None)))
    ):
        return refuse(_problem("geo.not_a_feature"))
    props = feature.get("properties") or {}
    code = props.get("code", feature.get("id"))
    code = str(code).strip() if isinstance(code, (str, int)) else None
    row["code"] = code
    name = props.get("name")
    row["name"] = name.strip() if isinstance(name, str) else None
    if not code or not CODE.match(code):
        return refuse(_problem("geo.bad_code", value=code))
    level = level_of(code)
    row["level"], row["parent_code"] = level, parent_code_of(code)
    if level == "district":
        return refuse(_problem("geo.unsupported_level", code=code, level=LEVEL_NAMES[level]))
    if props.get("level") not in (None, level):
        return refuse(_problem("geo.level_mismatch", expected=level, given=props.get("level")))
    given_parent = props.get("parent_code")
    if given_parent not in (None, "") and str(given_parent).strip() != row["parent_code"]:
        return refuse(_problem("geo.parent_mismatch", expected=row["parent_code"], given=given_parent))
    if not row["name"]:
        return refuse(_problem("geo.missing_name"))
    if len(row["name"]) > 100:
        return refuse(_problem("geo.name_too_long"))
    geometry, problem = check_structure(feature.get("geometry"), crs)
    if problem:
        return refuse(problem)
    row["geojson"] = json.dumps(geometry)
    return row


def _problem(reason: str, **values) -> Problem:
    return Problem(reason, MESSAGES[reason].format(**values))


def _refuse_duplicates(rows: list[dict]) -> None:
    counts = Counter(r["code"] for r in rows if r["code"])
    for row in rows:
        if row["code"] and counts[row["code"]] > 1:
            p = _problem("geo.duplicate_code", code=row["code"], count=counts[row["code"]])
            row.update(refusal=p.code, message=p.message)


def _validate(session: Session, first: int, last: int) -> None:
    """PostGIS validity and exact repair of one chunk of staged features, in one statement."""
    session.execute(
        text(f"""
        UPDATE {STAGING} AS s
           SET geometry = CASE WHEN checked.problem IS NULL THEN checked.geometry END,
               made_valid = checked.made_valid, rewound = checked.rewound,
               refusal = checked.problem,
               message = checked.reason  -- worded in Chinese by _report
          FROM {STAGING} AS src
          {VALIDATE_LATERAL}
         WHERE s.idx = src.idx AND src.idx BETWEEN :first AND :last AND src.refusal IS NULL
    """),
        {"first": first, "last": last},
    )


def _resolve(session: Session, principal: Principal | None) -> None:
    """Parents (in scope: the caller's subtree), existing rows and the status of every feature."""
    scope = None if principal is None or principal.is_admin else principal.region_path
    in_scope = "(CAST(:scope AS ltree) IS NULL OR r.path <@ CAST(:scope AS ltree))"
    params = {"scope": scope}
    session.execute(
        text(f"""
        UPDATE {STAGING} AS s SET existing_id = r.id
          FROM regions AS r WHERE r.code = s.code AND s.refusal IS NULL""")
    )
    # Parents already in the database, towns' and villages' alike.
    session.execute(
        text(f"""
        UPDATE {STAGING} AS s SET parent_id = r.id, parent_path = r.path
          FROM regions AS r
         WHERE s.refusal IS NULL AND r.code = s.parent_code
           AND r.level = CASE s.level WHEN 'town' THEN 'district' ELSE 'town' END
           AND {in_scope}"""),
        params,
    )
    # Towns: their district must already be there, in scope (districts are not imported).
    session.execute(
        text(f"""
        UPDATE {STAGING} AS s SET refusal = 'geo.unknown_parent',
               message = '上级区划 ' || s.parent_code || ' 不存在或不在您的辖区内'
         WHERE s.refusal IS NULL AND s.level = 'town' AND s.parent_id IS NULL""")
    )
    # Villages of a town that is new in the file: that town must have been accepted.
    session.execute(
        text(f"""
        UPDATE {STAGING} AS s
           SET refusal = CASE WHEN t.idx IS NULL THEN 'geo.unknown_parent' ELSE 'geo.parent_refused' END,
               message = '上级区划 ' || s.parent_code
                         || CASE WHEN t.idx IS NULL THEN ' 不存在或不在您的辖区内' ELSE ' 本次未能导入' END
          FROM {STAGING} AS v LEFT JOIN {STAGING} AS t ON t.code = v.parent_code AND t.level = 'town'
         WHERE s.idx = v.idx AND s.refusal IS NULL AND s.level = 'village' AND s.parent_id IS NULL
           AND (t.idx IS NULL OR t.refusal IS NOT NULL)""")
    )
    # An existing region keeps its place in the tree (re-parenting moves a subtree: an admin's job).
    session.execute(
        text(f"""
        UPDATE {STAGING} AS s SET refusal = 'geo.existing_conflict',
               message = '区划 ' || s.code || ' 已存在，但层级或上级与文件不符；区划调整请联系管理员'
          FROM regions AS r
         WHERE s.refusal IS NULL AND r.id = s.existing_id
           AND (r.level <> s.level OR r.parent_id IS DISTINCT FROM s.parent_id)""")
    )
    session.execute(
        text(f"""
        UPDATE {STAGING} AS s
           SET status = CASE
                 WHEN s.refusal IS NOT NULL THEN 'refused'
                 WHEN r.id IS NULL THEN 'created'
                 WHEN r.name = s.name AND r.geometry IS NOT NULL AND ST_Equals(r.geometry, s.geometry)
                   THEN 'unchanged'
                 ELSE 'updated' END
          FROM {STAGING} AS x LEFT JOIN regions AS r ON r.id = x.existing_id
         WHERE s.idx = x.idx""")
    )


def _report(session: Session) -> ImportReport:
    report = ImportReport()
    for row in session.execute(
        text(f"""
            SELECT idx, code, name, status, refusal, message, made_valid, rewound
              FROM {STAGING} ORDER BY idx""")
    ):
        if row.status == "refused":
            message = row.message
            if row.refusal == "geo.invalid_geometry":
                message = Problem.of(row.refusal, detail=postgis_reason(row.message)).message
            elif row.refusal in ("geo.empty_geometry", "geo.zero_area"):
                message = Problem.of(row.refusal).message
            report.refused.append(Refusal(row.idx, row.code, row.name, row.refusal, message))
            continue
        getattr(report, row.status).append(row.code)
        repairs = [name for name, done in (("made_valid", row.made_valid), ("rewound", row.rewound)) if done]
        if repairs:
            report.repaired.append(
                {"code": row.code, "repairs": repairs, "message": "；".join(REPAIR_MESSAGES[r] for r in repairs)}
            )
    return report


def _changed_villages_area(session: Session) -> str | None:
    """Old ∪ new boundaries of the villages that change: where enterprises may change village."""
    return session.scalar(
        text(f"""
        SELECT encode(ST_AsEWKB(ST_Union(g)), 'hex') FROM (
            SELECT s.geometry AS g FROM {STAGING} AS s
             WHERE s.level = 'village' AND s.status IN ('created', 'updated')
            UNION ALL
            SELECT r.geometry FROM {STAGING} AS s JOIN regions AS r ON r.id = s.existing_id
             WHERE s.level = 'village' AND s.status = 'updated' AND r.geometry IS NOT NULL
        ) AS changed""")
    )


def _write(session: Session, clock: Clock) -> None:
    """Towns first, then villages, so a village's path extends its (maybe new) town's."""
    params = {"now": clock.now()}
    session.execute(
        text(f"""
        UPDATE regions AS r SET name = s.name, geometry = s.geometry, updated_at = :now
          FROM {STAGING} AS s WHERE r.id = s.existing_id AND s.status = 'updated'"""),
        params,
    )
    for level in ("town", "village"):
        session.execute(
            text(f"""
            INSERT INTO regions (id, code, name, level, parent_id, path, geometry, created_at, updated_at)
            SELECT gen_random_uuid(), s.code, s.name, s.level, p.id, p.path || text2ltree(s.code), s.geometry,
                   :now, :now
              FROM {STAGING} AS s JOIN regions AS p ON p.code = s.parent_code
             WHERE s.status = 'created' AND s.level = :level
             ORDER BY s.code"""),
            params | {"level": level},
        )
