"""``/plans``, ``/inspections``, ``/hazards``, ``/patrols``, ``/tasks`` and the public ``/public/random-draws``:
thin views over the domain functions."""

from __future__ import annotations

import uuid

from flask import g

from api.auth import authenticated
from api.context import clock, db, settings
from api.inputs import Blueprint
from api.paging import linked_pages
from inspections import hazards, plans, service
from inspections import tasks as task_service
from inspections.records import Provenance
from core.schemas import PageQuery
from inspections.schemas import (
    DrawIn,
    DrawOut,
    HazardCreate,
    HazardOut,
    HazardPageOut,
    HazardQuery,
    InspectionCreate,
    InspectionOut,
    PatrolCreate,
    PatrolOut,
    PlanIn,
    PlanOut,
    PlanPageOut,
    PlanQuery,
    PublicDrawOut,
    PublicDrawPageOut,
    TaskIn,
    TaskPageOut,
    TaskQuery,
    TaskRowOut,
    TaskTransitionIn,
    TransitionIn,
)

plans_blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans", description="检查计划与双随机抽查")
inspections_blp = Blueprint("inspections", __name__, url_prefix="/api/v1/inspections", description="检查记录")
hazards_blp = Blueprint("hazards", __name__, url_prefix="/api/v1/hazards", description="隐患台账与整改闭环")
patrols_blp = Blueprint("patrols", __name__, url_prefix="/api/v1/patrols", description="网格员巡查")
tasks_blp = Blueprint(
    "tasks",
    __name__,
    url_prefix="/api/v1/tasks",
    description="任务：执行人看本人的任务，内勤看任务所在村属于本辖区的任务并可派发、撤销",
)
public_blp = Blueprint(
    "public", __name__, url_prefix="/api/v1/public", description="公开信息（无需登录）：双随机抽查公示"
)


def _provenance() -> Provenance:
    return Provenance(device_id=g.principal.device_id)


@plans_blp.route("")
@authenticated
@plans_blp.arguments(PlanQuery, location="query")
@plans_blp.response(200, PlanPageOut)
@linked_pages(plans_blp)
def list_plans(query):
    """检查计划列表（四不两直计划只对检查组成员和制定人可见）"""
    page = plans.list_plans(db(), g.principal, **query)
    return {
        "items": [plans.plan_dict(p) for p in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }


@plans_blp.route("", methods=["POST"])
@authenticated("desk_officer", "inspector", "admin")
@plans_blp.arguments(PlanIn)
@plans_blp.response(201, PlanOut)
def create_plan(body):
    """制定检查计划（日常、专项、双随机、四不两直、复查）"""
    return plans.plan_dict(plans.create_plan(db(), clock(), g.principal, body))


@plans_blp.route("/<uuid:plan_id>")
@authenticated
@plans_blp.response(200, PlanOut)
def get_plan(plan_id: uuid.UUID):
    """检查计划"""
    return plans.plan_dict(plans.get_plan(db(), g.principal, plan_id))


@plans_blp.route("/random-draw", methods=["POST"])
@authenticated("desk_officer", "admin")
@plans_blp.arguments(DrawIn)
@plans_blp.response(201, DrawOut)
def random_draw(body):
    """双随机抽取：随机抽取企业，并为每家随机抽取执法人员（回避本人网格与属地），种子与名单快照留存可复算"""
    draw = plans.random_draw(db(), clock(), g.principal, body)
    return plans.get_draw(db(), g.principal, draw.id)


@plans_blp.route("/random-draws/<uuid:draw_id>")
@authenticated
@plans_blp.response(200, DrawOut)
def get_draw(draw_id: uuid.UUID):
    """双随机抽查公示（一公开）：抽取结果与检查结果"""
    return plans.get_draw(db(), g.principal, draw_id)


@public_blp.route("/random-draws")
@public_blp.doc(security=[])
@public_blp.arguments(PageQuery, location="query")
@public_blp.response(200, PublicDrawPageOut)
@linked_pages(public_blp)
def list_public_draws(query):
    """双随机抽查公示列表（公开，无需登录），最新在前：每次抽取的时间、种子、范围；详情见 /public/random-draws/{id}"""
    page = plans.list_public_draws(db(), **query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@public_blp.route("/random-draws/<uuid:draw_id>")
@public_blp.doc(security=[])
@public_blp.response(200, PublicDrawOut)
def get_public_draw(draw_id: uuid.UUID):
    """双随机抽查公示（一公开，无需登录）：抽取时间、种子、抽中的企业与检查组、检查结果及复算方法；不含名单中的个人信息"""
    return plans.public_draw(db(), draw_id)


@inspections_blp.route("", methods=["POST"])
@authenticated
@inspections_blp.arguments(InspectionCreate)
@inspections_blp.response(201, InspectionOut)
@inspections_blp.alt_response(200, description="同一编号、同一内容的重复提交：返回已有记录")
@inspections_blp.alt_response(409, description="sync.id_reused：编号已被不同内容使用")
def create_inspection(body):
    """记录一次检查（与同步 create 的 data 相同，另可带 id）；不合格条目自动生成隐患"""
    inspection_id = body.pop("id") or uuid.uuid4()
    recorded = service.record_inspection(
        db(), clock(), g.principal, inspection_id, body, geofence_m=settings().geofence_meters, provenance=_provenance()
    )
    view = service.inspection_view(db(), g.principal, inspection_id)
    return view | {"missing_photos": recorded.missing_photos}, 201 if recorded.created else 200


@inspections_blp.route("/<uuid:inspection_id>")
@authenticated
@inspections_blp.response(200, InspectionOut)
def get_inspection(inspection_id: uuid.UUID):
    """检查记录"""
    return service.inspection_view(db(), g.principal, inspection_id)


@hazards_blp.route("")
@authenticated
@hazards_blp.arguments(HazardQuery, location="query")
@hazards_blp.response(200, HazardPageOut)
@linked_pages(hazards_blp)
def list_hazards(query):
    """隐患台账：按状态、等级、行业、区划、企业、逾期、督办、整改期限筛选，分页排序"""
    page = hazards.list_hazards(db(), clock(), g.principal, query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@hazards_blp.route("", methods=["POST"])
@authenticated("grid_worker", "inspector", "desk_officer", "admin")
@hazards_blp.arguments(HazardCreate)
@hazards_blp.response(201, HazardOut)
@hazards_blp.alt_response(200, description="重复提交：返回已有记录")
@hazards_blp.alt_response(409, description="sync.id_reused：编号已被不同内容使用")
def report_hazard(body):
    """上报隐患（检查之外发现的）"""
    hazard_id = body.pop("id") or uuid.uuid4()
    recorded = hazards.report_hazard(db(), clock(), g.principal, hazard_id, body, _provenance())
    return hazards.hazard_view(db(), clock(), g.principal, hazard_id), 201 if recorded.created else 200


@hazards_blp.route("/<uuid:hazard_id>")
@authenticated
@hazards_blp.etag
@hazards_blp.response(200, HazardOut)
def get_hazard(hazard_id: uuid.UUID):
    """隐患详情，含全部流转记录"""
    return hazards.hazard_view(db(), clock(), g.principal, hazard_id)


@hazards_blp.route("/<uuid:hazard_id>/transitions", methods=["POST"])
@authenticated
@hazards_blp.etag
@hazards_blp.arguments(TransitionIn)
@hazards_blp.response(200, HazardOut)
@hazards_blp.alt_response(409, description="版本过期或状态不允许：返回 current")
def transition_hazard(body, hazard_id: uuid.UUID):
    """隐患流转：order 责令整改 / submit 整改完成申请 / verify 复查销号 / reject 复查不通过 / supervise 挂牌督办"""
    base_version = body.pop("base_version")
    hazards_blp.check_etag(hazards.hazard_view(db(), clock(), g.principal, hazard_id), HazardOut)
    hazards.transition_hazard(
        db(), clock(), g.principal, hazard_id, body, base_version=base_version, provenance=_provenance()
    )
    return hazards.hazard_view(db(), clock(), g.principal, hazard_id)


@patrols_blp.route("", methods=["POST"])
@authenticated("grid_worker")
@patrols_blp.arguments(PatrolCreate)
@patrols_blp.response(201, PatrolOut)
@patrols_blp.alt_response(200, description="重复提交：返回已有记录")
def create_patrol(body):
    """记录一次网格巡查：轨迹与走访企业

    每次走访按其位置与企业的距离判定是否在电子围栏内（ANXUN_GEOFENCE_METERS）：围栏外或无位置的走访照常保存并标记
    （outside_geofence 为 true / null），但不计为巡查到位（巡查覆盖率、月度统计、乡镇排名）。"""
    patrol_id = body.pop("id") or uuid.uuid4()
    recorded = service.record_patrol(
        db(), clock(), g.principal, patrol_id, body, geofence_m=settings().geofence_meters, provenance=_provenance()
    )
    return service.patrol_view(db(), g.principal, patrol_id), 201 if recorded.created else 200


@patrols_blp.route("/<uuid:patrol_id>")
@authenticated
@patrols_blp.response(200, PatrolOut)
def get_patrol(patrol_id: uuid.UUID):
    """巡查记录"""
    return service.patrol_view(db(), g.principal, patrol_id)


@tasks_blp.route("")
@authenticated
@tasks_blp.arguments(TaskQuery, location="query")
@tasks_blp.response(200, TaskPageOut)
@linked_pages(tasks_blp)
def list_tasks(query):
    """任务列表：按状态、类型、执行人、网格、区划、截止时间、逾期筛选，分页（执行人本人的；内勤为本辖区的；管理员全部）"""
    page = task_service.list_tasks(db(), clock(), g.principal, query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@tasks_blp.route("", methods=["POST"])
@authenticated("desk_officer", "admin")
@tasks_blp.arguments(TaskIn)
@tasks_blp.response(201, TaskRowOut)
def create_task(body):
    """派发任务：巡查（网格员）、企业自查（企业安全员）、复查（执法人员）；执行人下次同步即收到"""
    return task_service.create_task(db(), clock(), g.principal, body)


@tasks_blp.route("/<uuid:task_id>")
@authenticated
@tasks_blp.etag
@tasks_blp.response(200, TaskRowOut)
def get_task(task_id: uuid.UUID):
    """任务详情"""
    return task_service.get_task(db(), clock(), g.principal, task_id)


@tasks_blp.route("/<uuid:task_id>/transitions", methods=["POST"])
@authenticated
@tasks_blp.etag
@tasks_blp.arguments(TaskTransitionIn)
@tasks_blp.response(200, TaskRowOut)
@tasks_blp.alt_response(409, description="task.invalid_transition：版本过期或状态不允许，返回 current")
def transition_task(body, task_id: uuid.UUID):
    """任务办理：执行人 accept 接受 / complete 完成 / decline 拒绝（与同步推送相同）；内勤 cancel 撤销"""
    base_version = body.pop("base_version")
    tasks_blp.check_etag(task_service.get_task(db(), clock(), g.principal, task_id), TaskRowOut)
    task_service.transition_task(db(), clock(), g.principal, task_id, body, base_version=base_version)
    return task_service.get_task(db(), clock(), g.principal, task_id)
