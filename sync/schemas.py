"""The push envelope and the pull page. Each change's ``data`` is validated by its entity's own schema
(the same one the REST endpoint uses), change by change, so one bad change never spoils the batch; the
OpenAPI document types ``changes`` as the union of one schema per (entity, op), built from ENTITY_OPS."""

from marshmallow import Schema, fields, validate

from checklists.schemas import ChecklistOut
from core.geojson import GeoJSON
from core.schemas import FieldErrorOut, Union, union_field
from core.times import AcceptedTime, RecordedTime
from documents.schemas import SignatureData
from enterprises.schemas import EnterpriseOut
from grids.schemas import GridPropertiesOut
from inspections.schemas import (
    HazardData,
    HazardOut,
    HazardRowOut,
    InspectionData,
    PatrolData,
    PlanOut,
    RecordRefOut,
    TaskOut,
    TaskTransitionData,
    TransitionData,
)

ENTITY_OPS = {
    ("inspection", "create"): InspectionData,
    ("patrol", "create"): PatrolData,
    ("hazard", "create"): HazardData,
    ("hazard", "transition"): TransitionData,
    ("task", "transition"): TaskTransitionData,
    ("signature", "create"): SignatureData,
}

PUSH_ENTITIES = list(dict.fromkeys(entity for entity, _ in ENTITY_OPS))
PUSH_OPS = list(dict.fromkeys(op for _, op in ENTITY_OPS))


def _only(value: str, **kwargs) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf([value]), **kwargs)


def _title(*words: str) -> str:
    return "".join(w.title().replace("_", "") for w in words)


class ChangeIn(Schema):
    entity = fields.String(required=True, validate=validate.OneOf(PUSH_ENTITIES))
    op = fields.String(required=True, validate=validate.OneOf(PUSH_OPS))
    id = fields.UUID(required=True)
    recorded_at = RecordedTime(load_default=None, allow_none=True)
    base_version = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "客户端看到的版本号（乐观锁）；流转（transition）时必填"},
    )
    data = fields.Dict(required=True)


def _push_union() -> Union:
    """entity → (op → the change schema of that pair); an entity with one op maps straight to it."""
    by_entity: dict[str, dict] = {}
    for (entity, op), data_schema in ENTITY_OPS.items():
        by_entity.setdefault(entity, {})[op] = ChangeIn.from_dict(
            {"entity": _only(entity), "op": _only(op), "data": fields.Nested(data_schema, required=True)},
            name=f"{_title(entity, op)}Change",
        )
    mapping = {
        entity: next(iter(ops.values())) if len(ops) == 1 else Union("op", ops, f"{_title(entity)}Change")
        for entity, ops in by_entity.items()
    }
    return Union("entity", mapping, "PushChange")


class BatchIn(Schema):
    batch_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    sent_at = AcceptedTime(required=True)
    changes = fields.List(union_field(_push_union()), required=True)


# Required in the document so generated clients type them as always present (answers are not loaded).
class PushResultOut(Schema):
    id = fields.String(required=True, allow_none=True, metadata={"description": "变更的记录 id（信封无效时为 null）"})
    entity = fields.String(required=True, allow_none=True)


class StoredResult(PushResultOut):
    version = fields.Integer(required=True)
    derived = fields.List(fields.Nested(RecordRefOut), metadata={"description": "检查记录：不合格项生成的隐患"})


class AppliedResult(StoredResult):
    status = _only("applied")


class DuplicateResult(StoredResult):
    status = _only("duplicate")


class ConflictResult(PushResultOut):
    status = _only("conflict")
    retryable = fields.Boolean(required=True)
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    current = union_field(
        Union(None, {"hazard": HazardOut, "task": TaskOut}), metadata={"description": "服务器上的当前记录，供手机变基"}
    )


class RejectedResult(PushResultOut):
    status = _only("rejected")
    retryable = fields.Boolean(required=True)
    code = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorOut), required=True)


PUSH_RESULTS = {
    "applied": AppliedResult,
    "duplicate": DuplicateResult,
    "conflict": ConflictResult,
    "rejected": RejectedResult,
}


class PushOut(Schema):
    batch_id = fields.String(required=True)
    server_time = fields.String(required=True, metadata={"format": "date-time"})
    clock_skew_seconds = fields.Float(required=True)
    results = fields.List(union_field(Union("status", PUSH_RESULTS, "PushResult")), required=True)
    missing_photos = fields.List(fields.String(), required=True)


class PullQuery(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=4096))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=2000))


class GridRecordOut(GridPropertiesOut):
    geometry = GeoJSON("Polygon", "MultiPolygon")


# What a pulled upsert's ``data`` is: the entity's REST representation (sync/pull.py ``_records``).
PULLED = {
    "enterprise": EnterpriseOut,
    "grid": GridRecordOut,
    "hazard": HazardRowOut,
    "task": TaskOut,
    "plan": PlanOut,
    "checklist_template": ChecklistOut,
}


class PulledChange(Schema):
    id = fields.String(required=True, metadata={"description": "记录 id（检查表模板为 code@version）"})
    version = fields.Integer(required=True)


class PulledDelete(PulledChange):
    entity = fields.String(required=True, validate=validate.OneOf(list(PULLED)))
    op = _only("delete")


def _pull_union() -> Union:
    upserts = {
        entity: PulledChange.from_dict(
            {"entity": _only(entity), "op": _only("upsert"), "data": fields.Nested(schema, required=True)},
            name=f"Pulled{_title(entity)}",
        )
        for entity, schema in PULLED.items()
    }
    return Union("op", {"upsert": Union("entity", upserts, "PulledUpsert"), "delete": PulledDelete}, "PullChange")


class PullOut(Schema):
    changes = fields.List(union_field(_pull_union()), required=True)
    cursor = fields.String(required=True)
    has_more = fields.Boolean(required=True)
    reset = fields.Boolean(required=True)


class ConfigOut(Schema):
    protocol_version = fields.Integer()
    server_time = fields.String()
    max_batch_changes = fields.Integer()
    max_batch_bytes = fields.Integer()
    max_photo_bytes = fields.Integer()
    photo_chunk_bytes = fields.Integer()
    max_signature_bytes = fields.Integer()
    max_signature_pixels = fields.Integer()
    pull_limit_default = fields.Integer()
    pull_limit_max = fields.Integer()
