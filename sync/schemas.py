"""The push envelope. Each change's ``data`` is validated by its entity's own schema (the same one
the REST endpoint uses), change by change, so one bad change never spoils the batch."""
from marshmallow import Schema, fields, validate

from core.times import AcceptedTime, RecordedTime
from inspections.schemas import HazardData, InspectionData, PatrolData, TaskTransitionData, TransitionData

ENTITY_OPS = {
    ("inspection", "create"): InspectionData,
    ("patrol", "create"): PatrolData,
    ("hazard", "create"): HazardData,
    ("hazard", "transition"): TransitionData,
    ("task", "transition"): TaskTransitionData,
}


class BatchIn(Schema):
    batch_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    sent_at = AcceptedTime(required=True)
    changes = fields.List(fields.Raw(), required=True)


class ChangeIn(Schema):
    entity = fields.String(required=True, validate=validate.OneOf(["inspection", "patrol", "hazard", "task"]))
    op = fields.String(required=True, validate=validate.OneOf(["create", "transition"]))
    id = fields.UUID(required=True)
    recorded_at = RecordedTime(load_default=None, allow_none=True)
    base_version = fields.Integer(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


class PushIn(BatchIn):
    """The push body as the document describes it; the view loads BatchIn and then each change on its
    own (sync/push.py), so that one bad change is rejected alone."""

    changes = fields.List(fields.Nested(ChangeIn), required=True)


class PushOut(Schema):
    batch_id = fields.String()
    server_time = fields.String()
    clock_skew_seconds = fields.Float()
    results = fields.List(fields.Dict())
    missing_photos = fields.List(fields.String())


class PullQuery(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=4096))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=2000))


class PullOut(Schema):
    changes = fields.List(fields.Dict())
    cursor = fields.String()
    has_more = fields.Boolean()
    reset = fields.Boolean()


class ConfigOut(Schema):
    protocol_version = fields.Integer()
    server_time = fields.String()
    max_batch_changes = fields.Integer()
    max_batch_bytes = fields.Integer()
    max_photo_bytes = fields.Integer()
    photo_chunk_bytes = fields.Integer()
    pull_limit_default = fields.Integer()
    pull_limit_max = fields.Integer()
