"""Payloads of plans, draws, inspections, hazards and patrols. The ``…Data`` schemas are exactly the
``data`` of a sync change (SYNC_PROTOCOL.md §2): REST and sync validate with the same classes."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounts.schemas import people_field
from checklists.scoring import AnswerList
from core.schemas import PageOut, PageQuery
from geo.location import LocationIn, PositionList
from core.times import AcceptedDate, AcceptedTime, RecordedTime, RecordedTimeList, ShownTime
from enterprises.models import INDUSTRIES, RISK_COLOURS
from inspections.hazards import TRANSITIONS
from inspections.models import (
    HAZARD_LEVELS,
    HAZARD_SOURCES,
    HAZARD_STATUSES,
    INSPECTION_KINDS,
    PLAN_KINDS,
    TASK_KINDS,
    TASK_STATUSES,
    VISIT_OUTCOMES,
)
from inspections.tasks import CREATABLE as CREATABLE_TASKS

SHA256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$", error="照片应以 64 位小写十六进制 SHA-256 标识"))


def ends_after_start(data: dict, start: str, end: str, message: str = "结束时间不能早于开始时间") -> None:
    if data.get(end) and data[end] < data[start]:
        raise ValidationError(message, end)


def photo_list():
    return fields.List(SHA256, load_default=list, validate=validate.Length(max=50))


class ChecklistRef(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class InspectionData(Schema):
    enterprise_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(INSPECTION_KINDS))
    plan_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "检查计划；双随机检查（random）必须属于一次双随机抽取产生的计划"},
    )
    checklist = fields.Nested(ChecklistRef, required=True)
    inspectors = fields.List(
        fields.UUID(),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={
            "description": (
                "检查人员（用户 id）：执法检查须两名以上持有效执法证的执法人员，记录人在内；"
                "网格员巡查、企业自查只能是本人或可检查该企业的人员（缺省为本人）"
            )
        },
    )
    started_at = RecordedTime(required=True)
    finished_at = RecordedTime(load_default=None, allow_none=True)
    location = fields.Nested(LocationIn, load_default=None, allow_none=True)
    answers = AnswerList(required=True, validate=validate.Length(max=500))
    photos = photo_list()
    remarks = fields.String(load_default="", validate=validate.Length(max=5000))
    supersedes = fields.UUID(load_default=None, allow_none=True)

    @validates_schema
    def finished_after_start(self, data, **kwargs):
        ends_after_start(data, "started_at", "finished_at")


class InspectionCreate(InspectionData):
    """REST body: the sync ``data`` plus the record's id (made on the phone; generated when absent)."""

    id = fields.UUID(load_default=None)


class HazardData(Schema):
    enterprise_id = fields.UUID(load_default=None, allow_none=True)
    level = fields.String(required=True, validate=validate.OneOf(HAZARD_LEVELS))
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    location = fields.Nested(LocationIn, load_default=None, allow_none=True)
    photos = photo_list()
    found_at = RecordedTime(required=True)

    @validates_schema
    def placed(self, data, **kwargs):
        if not data.get("enterprise_id") and not data.get("location"):
            raise ValidationError("隐患须关联企业或提供位置", "location")


class HazardCreate(HazardData):
    id = fields.UUID(load_default=None)


class FiveImplementations(Schema):
    """五落实: 责任、措施、资金、时限、预案."""

    responsibility = fields.String(required=True, validate=validate.Length(min=1, max=500))
    measures = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    funds = fields.String(required=True, validate=validate.Length(min=1, max=500))
    deadline = fields.String(required=True, validate=validate.Length(min=1, max=100))
    contingency_plan = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class TransitionData(Schema):
    """One step of the hazard lifecycle; which fields an action needs is checked by the state machine."""

    action = fields.String(
        required=True,
        validate=validate.OneOf(list(TRANSITIONS)),
        metadata={
            "description": (
                "order/submit/verify/reject/supervise（SYNC_PROTOCOL.md §2）；扩展：self_fix 企业自改销号"
                "（一般隐患、企业自查发现），spot_check 自改抽查确认，reopen 自改抽查不合格重新责令整改"
            )
        },
    )
    note = fields.String(load_default="", validate=validate.Length(max=5000))
    photos = photo_list()
    location = fields.Nested(LocationIn, load_default=None, allow_none=True)
    deadline = AcceptedTime(load_default=None, allow_none=True)
    responsible_person = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    measures = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    five = fields.Nested(FiveImplementations, load_default=None, allow_none=True)
    treatment_plan = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=10000),
        metadata={"description": "治理方案摘要（重大隐患；缺省时取五落实中的整改措施）"},
    )
    recheck_inspection_id = fields.UUID(load_default=None, allow_none=True)
    office = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={"description": "挂牌督办单位"}
    )


class TransitionIn(TransitionData):
    base_version = fields.Integer(required=True, metadata={"description": "客户端看到的隐患版本号（乐观锁）"})


class TrackIn(Schema):
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))
    coordinates = PositionList(required=True, validate=validate.Length(min=2, max=20000))
    times = RecordedTimeList(load_default=None, allow_none=True)

    @validates_schema
    def times_match(self, data, **kwargs):
        if data.get("times") is not None and len(data["times"]) != len(data["coordinates"]):
            raise ValidationError("times 与 coordinates 数量须一致", "times")


class VisitIn(Schema):
    enterprise_id = fields.UUID(required=True)
    at = RecordedTime(required=True)
    location = fields.Nested(LocationIn, load_default=None, allow_none=True)
    outcome = fields.String(required=True, validate=validate.OneOf(VISIT_OUTCOMES))
    note = fields.String(load_default="", validate=validate.Length(max=5000))
    photos = photo_list()


class PatrolData(Schema):
    grid_id = fields.UUID(required=True)
    started_at = RecordedTime(required=True)
    ended_at = RecordedTime(load_default=None, allow_none=True)
    track = fields.Nested(TrackIn, load_default=None, allow_none=True)
    visits = fields.List(fields.Nested(VisitIn), load_default=list, validate=validate.Length(max=500))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    supersedes = fields.UUID(load_default=None, allow_none=True)

    @validates_schema
    def ended_after_start(self, data, **kwargs):
        ends_after_start(data, "started_at", "ended_at")


class PatrolCreate(PatrolData):
    id = fields.UUID(load_default=None)


class WindowIn(Schema):
    """The dates a plan (or the plans of a draw) may be carried out; the database refuses a reversed one."""

    window_start = AcceptedDate(required=True)
    window_end = AcceptedDate(required=True)

    @validates_schema
    def window_ordered(self, data, **kwargs):
        ends_after_start(data, "window_start", "window_end", "结束日期不能早于开始日期")


class PlanIn(WindowIn):
    kind = fields.String(required=True, validate=validate.OneOf(PLAN_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    enterprise_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=500))
    inspector_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=2, max=20))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))


class PlanQuery(PageQuery):
    kind = fields.String(load_default=None, validate=validate.OneOf(PLAN_KINDS))
    enterprise_id = fields.UUID(load_default=None)


class PlanOut(Schema):
    id = fields.UUID()
    kind = fields.String()
    title = fields.String()
    window = fields.Dict()
    enterprise_ids = fields.List(fields.UUID())
    inspectors = fields.List(fields.UUID())
    draw_id = fields.UUID(allow_none=True)
    notes = fields.String()
    created_by = fields.UUID()
    created_at = ShownTime()
    version = fields.Integer()


class PlanPageOut(PageOut):
    items = fields.List(fields.Nested(PlanOut))


class DrawIn(WindowIn):
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=500))
    team_size = fields.Integer(load_default=2, validate=validate.Range(min=2, max=10))
    region = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12}$"))
    industry = fields.String(load_default=None, validate=validate.OneOf(INDUSTRIES))
    risk = fields.List(fields.String(validate=validate.OneOf(RISK_COLOURS)), load_default=None)
    seed = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9A-Za-z_-]{8,64}$"),
        metadata={"description": "随机种子；不填则由服务器生成并记录"},
    )
    title = fields.String(load_default=None, validate=validate.Length(max=200))


class PublicDrawSummaryOut(Schema):
    id = fields.UUID()
    seed = fields.String(metadata={"description": "随机种子"})
    filters = fields.Dict(metadata={"description": "抽取范围：区划、行业、风险等级"})
    count = fields.Integer()
    team_size = fields.Integer()
    window = fields.Dict(metadata={"description": "检查时间窗 {start, end}（日期）"})
    created_at = ShownTime(metadata={"description": "抽取时间"})


class PublicDrawOut(PublicDrawSummaryOut):
    """双随机一公开: a draw as anyone may see it, without a login and without personal data of the pool."""

    enterprise_pool = fields.List(fields.Dict(), metadata={"description": "企业名单快照 {id, grid_id, region_path}"})
    inspector_pool = fields.List(
        fields.Dict(),
        metadata={
            "description": "执法人员名单快照，仅含复算所需 {id, region_level, region_path, grid_ids}（不含执法证号等个人信息）"
        },
    )
    result = fields.List(fields.Dict(), metadata={"description": "抽取结果 {enterprise_id, inspector_ids}"})
    recompute = fields.String(metadata={"description": "如何以种子和名单复算抽取结果"})
    plans = fields.List(fields.UUID())
    publication = fields.List(
        fields.Dict(),
        metadata={
            "description": (
                "公示：每家被抽中的企业 {enterprise_id, enterprise_name, inspectors（检查组姓名）, plan_id, "
                "result（检查结果 {inspection_id, finished_at, failed, major_failed, hazards_found, hazards_rectified, "
                "rectified（发现的隐患是否均已整改销号）}，未检查为 null）}"
            )
        },
    )


class PublicDrawPageOut(PageOut):
    items = fields.List(fields.Nested(PublicDrawSummaryOut))


class DrawOut(Schema):
    id = fields.UUID()
    seed = fields.String()
    filters = fields.Dict()
    count = fields.Integer()
    team_size = fields.Integer()
    window = fields.Dict()
    enterprise_pool = fields.List(fields.Dict())
    inspector_pool = fields.List(fields.Dict())
    result = fields.List(fields.Dict())
    plans = fields.List(fields.UUID())
    created_at = ShownTime()
    publication = fields.List(fields.Dict(), metadata={"description": "一公开：抽取结果与检查结果"})


class HazardQuery(PageQuery):
    status = fields.List(fields.String(validate=validate.OneOf(HAZARD_STATUSES)), load_default=None)
    level = fields.String(load_default=None, validate=validate.OneOf(HAZARD_LEVELS))
    source = fields.List(
        fields.String(validate=validate.OneOf(HAZARD_SOURCES)),
        load_default=None,
        metadata={
            "description": "发现来源：inspection 执法检查、patrol 网格员巡查、grid_report 网格员上报、self 企业自查自报、public 群众举报"
        },
    )
    self_fixed = fields.Boolean(load_default=None, metadata={"description": "企业自改销号的隐患"})
    industry = fields.String(load_default=None, validate=validate.OneOf(INDUSTRIES))
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{12}$"),
        metadata={"description": "12 位区划代码（区县、乡镇或村）：该区划内（含下级）的隐患"},
    )
    enterprise_id = fields.UUID(load_default=None)
    overdue = fields.Boolean(load_default=None)
    supervised = fields.Boolean(load_default=None)
    deadline_from = AcceptedTime(load_default=None)
    deadline_to = AcceptedTime(load_default=None)
    found_from = AcceptedTime(load_default=None, metadata={"description": "发现时间不早于"})
    found_to = AcceptedTime(load_default=None, metadata={"description": "发现时间早于（不含）"})
    grid_id = fields.UUID(load_default=None, metadata={"description": "所在网格"})
    sort = fields.String(
        load_default="-found_at",
        validate=validate.OneOf(["found_at", "-found_at", "deadline", "-deadline", "updated_at", "-updated_at"]),
    )


class HazardCaseOut(Schema):
    """The 行政处罚 case a hazard led to."""

    id = fields.UUID()
    number = fields.String(
        allow_none=True, metadata={"description": "案件编号（立案审批表文号；简易程序为决定书文号）"}
    )
    status = fields.String(
        metadata={"description": "filed 立案 | investigating | notified | decided | executed | closed"}
    )
    procedure = fields.String(metadata={"description": "simple 简易程序 | general 一般程序"})
    amount = fields.String(metadata={"description": "罚款金额（元，十进制字符串）", "pattern": r"^\d+\.\d{2}$"})


class HazardRowOut(Schema):
    """One line of the ledger."""

    id = fields.UUID()
    status = fields.String()
    level = fields.String()
    source = fields.String(metadata={"description": "发现来源"})
    self_fixed = fields.Boolean(metadata={"description": "企业自改销号"})
    overdue = fields.Boolean()
    supervised = fields.Boolean()
    supervising_office = fields.String(allow_none=True)
    deadline = ShownTime(allow_none=True)
    enterprise_id = fields.UUID(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    inspection_id = fields.UUID(allow_none=True)
    item_code = fields.String(allow_none=True)
    description = fields.String()
    location = fields.Dict(allow_none=True)
    photos = fields.List(fields.String())
    found_at = ShownTime()
    found_by = fields.UUID()
    responsible_person = fields.String(allow_none=True)
    measures = fields.String(allow_none=True)
    five = fields.Dict(allow_none=True)
    treatment_plan = fields.String(allow_none=True)
    submitted_by = fields.UUID(allow_none=True)
    submitted_at = ShownTime(allow_none=True)
    closed_at = ShownTime(allow_none=True)
    closed_by = fields.UUID(allow_none=True)
    region_code = fields.String(allow_none=True)
    grid_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    updated_at = ShownTime()
    penalty_case = fields.Nested(
        HazardCaseOut,
        allow_none=True,
        metadata={"description": "该隐患引起的行政处罚案件（案件编号、状态、罚款金额），没有时为 null"},
    )
    people = people_field()


class HazardOut(HazardRowOut):
    """A hazard with every step of its life (隐患流转记录)."""

    events = fields.List(fields.Dict())


class HazardPageOut(PageOut):
    items = fields.List(fields.Nested(HazardRowOut))


class InspectionOut(Schema):
    id = fields.UUID()
    enterprise_id = fields.UUID()
    kind = fields.String()
    plan_id = fields.UUID(allow_none=True)
    checklist = fields.Dict()
    inspectors = fields.List(fields.UUID())
    started_at = ShownTime()
    finished_at = ShownTime(allow_none=True)
    location = fields.Dict(allow_none=True)
    distance_m = fields.Float(allow_none=True)
    outside_geofence = fields.Boolean(allow_none=True)
    answers = fields.List(fields.Dict())
    outcomes = fields.List(fields.Dict())
    summary = fields.Dict()
    rechecked = fields.List(
        fields.Dict(),
        metadata={
            "description": (
                "复查：所判定条目上未销号的隐患 {hazard_id, item, result: pass|fail, sent_back}；"
                "复查不合格且在整改完成申请之后的隐患退回整改（sent_back），不另生成隐患"
            )
        },
    )
    photos = fields.List(fields.String())
    remarks = fields.String()
    supersedes = fields.UUID(allow_none=True)
    recorded_by = fields.UUID()
    received_at = ShownTime()
    people = people_field()
    version = fields.Integer()
    derived = fields.List(fields.Dict(), metadata={"description": "由不合格条目产生的隐患"})
    missing_photos = fields.List(fields.String(), metadata={"description": "记录引用但服务器尚未收到的照片"})


class PatrolOut(Schema):
    id = fields.UUID()
    grid_id = fields.UUID()
    worker_id = fields.UUID()
    started_at = ShownTime()
    ended_at = ShownTime(allow_none=True)
    track = fields.Dict(
        allow_none=True,
        metadata={
            "description": "GeoJSON LineString（WGS-84）；times：各轨迹点的时间（RFC 3339，与 coordinates 一一对应）"
        },
    )
    visits = fields.List(
        fields.Dict(),
        metadata={
            "description": (
                "走访：enterprise_id、at、outcome、distance_m、outside_geofence（围栏外为 true，无位置为 null："
                "两者均不计为巡查到位）、note、photos"
            )
        },
    )
    notes = fields.String()
    people = people_field()
    version = fields.Integer()


class TaskResult(Schema):
    entity = fields.String(required=True, validate=validate.OneOf(["inspection", "patrol", "hazard"]))
    id = fields.UUID(required=True)


class TaskTransitionData(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["accept", "complete", "decline"]))
    note = fields.String(load_default="", validate=validate.Length(max=5000))
    result = fields.Nested(TaskResult, load_default=None, allow_none=True)


class RecordRefOut(Schema):
    entity = fields.String()
    id = fields.UUID()


class TaskOut(Schema):
    """A task as its assignee pulls it (``inspections.tasks.task_view``)."""

    id = fields.UUID()
    kind = fields.String()
    title = fields.String()
    due = fields.DateTime()
    status = fields.String()
    target = fields.Nested(RecordRefOut, metadata={"description": "任务对象"})
    enterprise_id = fields.UUID(allow_none=True)
    assignee_id = fields.UUID()
    note = fields.String(allow_none=True)
    result = fields.Nested(RecordRefOut, allow_none=True)
    version = fields.Integer()


TASK_STATUS_TEXT = "open 待办、accepted 已接受、done 已完成、declined 执行人已拒绝、cancelled 内勤已撤销"
TASK_KIND_TEXT = (
    "patrol 巡查、self_inspection 企业自查、recheck 复查、overdue_hazard 逾期隐患督办、verify_report 举报核查"
)


class TaskQuery(PageQuery):
    status = fields.List(
        fields.String(validate=validate.OneOf(TASK_STATUSES)),
        load_default=None,
        metadata={"description": TASK_STATUS_TEXT},
    )
    kind = fields.List(
        fields.String(validate=validate.OneOf(TASK_KINDS)), load_default=None, metadata={"description": TASK_KIND_TEXT}
    )
    assignee_id = fields.UUID(load_default=None, metadata={"description": "执行人"})
    grid_id = fields.UUID(load_default=None, metadata={"description": "所在网格"})
    enterprise_id = fields.UUID(load_default=None)
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{12}$"),
        metadata={"description": "12 位区划代码：任务所在村属于该区划（含下级）"},
    )
    due_from = AcceptedTime(load_default=None, metadata={"description": "截止时间不早于"})
    due_to = AcceptedTime(load_default=None, metadata={"description": "截止时间早于（不含）"})
    overdue = fields.Boolean(
        load_default=None, metadata={"description": "true：已过截止时间且仍待办或已接受；false：其余"}
    )
    sort = fields.String(
        load_default="due",
        validate=validate.OneOf(["due", "-due", "created_at", "-created_at", "updated_at", "-updated_at"]),
    )


class TaskRowOut(Schema):
    """A task as the desk sees it (``inspections.tasks.get_task``): the pull's fields, the names beside
    the ids, and whether it is overdue."""

    id = fields.UUID()
    kind = fields.String(metadata={"description": TASK_KIND_TEXT})
    title = fields.String()
    status = fields.String(metadata={"description": TASK_STATUS_TEXT})
    due = ShownTime()
    overdue = fields.Boolean(metadata={"description": "已过截止时间且仍待办或已接受"})
    target = fields.Nested(RecordRefOut, metadata={"description": "任务对象（企业、隐患或举报）"})
    enterprise_id = fields.UUID(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    assignee_id = fields.UUID()
    assignee_name = fields.String()
    region_code = fields.String(allow_none=True, metadata={"description": "任务所在村的区划代码"})
    region_name = fields.String(allow_none=True)
    grid_id = fields.UUID(allow_none=True)
    note = fields.String(metadata={"description": "说明；拒绝或撤销时为其原因"})
    result = fields.Nested(RecordRefOut, allow_none=True, metadata={"description": "完成任务的记录"})
    created_at = ShownTime()
    updated_at = ShownTime()
    version = fields.Integer()


class TaskPageOut(PageOut):
    items = fields.List(fields.Nested(TaskRowOut))


class TaskIn(Schema):
    """派发任务: what, to whom, about which enterprise (a recheck: which hazard), by when."""

    kind = fields.String(required=True, validate=validate.OneOf(list(CREATABLE_TASKS)))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    assignee_id = fields.UUID(
        required=True, metadata={"description": "执行人：巡查派网格员，企业自查派企业安全员，复查派执法人员"}
    )
    enterprise_id = fields.UUID(load_default=None, metadata={"description": "巡查、企业自查的企业"})
    hazard_id = fields.UUID(load_default=None, metadata={"description": "复查的隐患（整改中或待复查）"})
    due = AcceptedTime(required=True, metadata={"description": "截止时间，须晚于当前时间"})
    note = fields.String(load_default="", validate=validate.Length(max=5000))


class TaskTransitionIn(TaskTransitionData):
    """The assignee's accept / complete / decline (as a sync push), or the desk's cancel (撤销)."""

    action = fields.String(
        required=True,
        validate=validate.OneOf(["accept", "complete", "decline", "cancel"]),
        metadata={
            "description": "accept 接受、complete 完成、decline 拒绝（执行人）；cancel 撤销（内勤、管理员，须说明原因）"
        },
    )
    base_version = fields.Integer(required=True, metadata={"description": "客户端看到的任务版本号（乐观锁）"})
