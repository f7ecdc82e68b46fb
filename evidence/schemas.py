"""Bodies of the photo endpoints (SYNC_PROTOCOL.md §4)."""

from __future__ import annotations

from marshmallow import Schema, fields

from geo.location import LocationOut
from core.times import ShownTime


class UserRefOut(Schema):
    id = fields.UUID()
    name = fields.String()


class WindowOut(Schema):
    start = ShownTime(allow_none=True)
    end = ShownTime(allow_none=True)


class GeotagOut(Schema):
    """The photo checked against one record naming it. Missing GPS or time is reported as
    "missing" and leaves the dependent answers null: it is not a failure."""

    entity = fields.String(metadata={"description": "记录类型：inspection、hazard、patrol、enterprise …"})
    entity_id = fields.UUID()
    gps = fields.String(metadata={"description": "present | missing：照片是否带 EXIF GPS"})
    time = fields.String(metadata={"description": "present | missing：照片是否带 EXIF 拍摄时间"})
    distance_m_to_record = fields.Float(
        allow_none=True, metadata={"description": "拍摄点到记录位置（如签到位置）的距离，米"}
    )
    distance_m_to_enterprise = fields.Float(allow_none=True, metadata={"description": "拍摄点到企业登记位置的距离，米"})
    threshold_m = fields.Integer(metadata={"description": "判定阈值（地理围栏半径），米"})
    within_threshold = fields.Boolean(
        allow_none=True, metadata={"description": "较近的那个距离不超过阈值；缺 GPS 或无参照位置时为 null"}
    )
    window = fields.Nested(WindowOut, allow_none=True, metadata={"description": "记录的时间范围"})
    taken_in_window = fields.Boolean(
        allow_none=True, metadata={"description": "拍摄时间在记录时间范围内；缺拍摄时间或无时间范围时为 null"}
    )


class PhotoOut(Schema):
    sha256 = fields.String()
    mime = fields.String(metadata={"description": "image/jpeg | image/png | image/heic（按解码结果判断）"})
    size_bytes = fields.Integer()
    width = fields.Integer(metadata={"description": "按 EXIF 方向摆正后的宽度"})
    height = fields.Integer()
    orientation = fields.Integer(metadata={"description": "EXIF Orientation（1–8）"})
    taken_at = ShownTime(allow_none=True, metadata={"description": "EXIF 拍摄时间（无时区时按北京时间）"})
    gps = fields.Nested(LocationOut, allow_none=True, metadata={"description": "EXIF GPS，WGS-84"})
    altitude_m = fields.Float(allow_none=True)
    camera = fields.String(allow_none=True)
    uploaded_by = fields.Nested(UserRefOut, allow_none=True, metadata={"description": "null：群众举报附带的照片"})
    uploaded_from = fields.String(allow_none=True, metadata={"description": "上传设备 id"})
    uploaded_at = ShownTime()
    thumb_url = fields.String()
    original_url = fields.String()
    geotag = fields.List(
        fields.Nested(GeotagOut), metadata={"description": "与每条引用该照片、且调用者可见的记录的位置与时间核对"}
    )


class UploadProgressOut(Schema):
    """The 308 body of a resumable upload (the ``Range`` header says the same)."""

    sha256 = fields.String()
    received = fields.Integer(metadata={"description": "服务器已连续收到的字节数"})
    total = fields.Integer(allow_none=True)
