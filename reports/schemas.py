"""Query and answer schemas of the stats, ledger export and risk map endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import Money
from core.times import AcceptedMonth, ShownTime
from inspections.schemas import HazardQuery
from reports.riskmap import LAYERS

REGION_CODE = validate.Regexp(r"^[0-9]{12}$", error="区划代码须为 12 位数字")


class MonthlyStatsQuery(Schema):
    region = fields.String(
        load_default=None, validate=REGION_CODE, metadata={"description": "区划代码（12 位）；不填为本人所在区划"}
    )
    month = AcceptedMonth(load_default=None, metadata={"description": "统计月份 YYYY-MM（2000-01 起）；不填为本月"})


class RegionRef(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class OfficeFiguresOut(Schema):
    inspections = fields.Integer()
    inspections_by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    enterprises_inspected = fields.Integer()
    hazards_found = fields.Integer()
    hazards_found_major = fields.Integer()


class FiguresOut(Schema):
    inspections = fields.Integer(metadata={"description": "本月检查次数（被更正的不计）"})
    inspections_by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    hazards_found = fields.Integer(metadata={"description": "本月发现隐患"})
    hazards_found_major = fields.Integer(metadata={"description": "其中重大事故隐患"})
    hazards_found_by_source = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "本月发现隐患按来源：inspection 执法检查、patrol 网格员巡查、grid_report 网格员上报、self 企业自查自报、public 群众举报"
        },
    )
    hazards_closed = fields.Integer(metadata={"description": "本月发现的隐患中截至统计时点已销号的"})
    closure_rate = fields.Float(allow_none=True, metadata={"description": "整改销号率；本月未发现隐患为 null"})
    hazards_closed_in_month = fields.Integer(metadata={"description": "本月销号隐患（不论何时发现）"})
    overdue = fields.Integer(metadata={"description": "统计时点逾期未整改隐患"})
    major_open = fields.Integer(metadata={"description": "统计时点未销号的重大事故隐患"})
    major_supervised = fields.Integer(metadata={"description": "其中已挂牌督办"})
    enterprises = fields.Integer()
    enterprises_patrolled = fields.Integer(metadata={"description": "本月被网格员巡查到的企业"})
    patrol_coverage = fields.Float(allow_none=True, metadata={"description": "巡查覆盖率"})
    penalty_cases = fields.Integer(metadata={"description": "本月作出决定的行政处罚案件"})
    penalty_amount = Money(metadata={"description": "其罚款金额（元）"})
    rank = fields.Integer(metadata={"description": "在同级（同一上级之下）中的排名，1 为最好"})
    rank_of = fields.Integer()


class RegionFiguresOut(Schema):
    region = fields.Nested(RegionRef)
    figures = fields.Nested(FiguresOut)


class MonthlyStatsOut(Schema):
    region = fields.Nested(RegionRef)
    month = fields.String()
    final = fields.Boolean(metadata={"description": "true：月末定格的数据（月通报口径）；false：实时计算"})
    as_of = ShownTime(metadata={"description": "隐患状态类指标的统计时点"})
    computed_at = ShownTime()
    ranking = fields.String(metadata={"description": "排名规则"})
    figures = fields.Nested(FiguresOut)
    office = fields.Nested(OfficeFiguresOut, metadata={"description": "驻本级的执法检查力量本月的工作量"})
    children = fields.List(fields.Nested(RegionFiguresOut), metadata={"description": "下级区划，按排名"})


class LedgerExportQuery(HazardQuery):
    """The ledger's own filters; the whole ledger, oldest first, instead of a page."""

    class Meta:
        exclude = ("page", "per_page")

    sort = fields.String(
        load_default="found_at",
        validate=validate.OneOf(["found_at", "-found_at", "deadline", "-deadline", "updated_at", "-updated_at"]),
    )


class RiskMapQuery(Schema):
    region = fields.String(required=True, validate=REGION_CODE, metadata={"description": "乡镇或区县区划代码"})
    layer = fields.String(
        load_default="all",
        validate=validate.OneOf(LAYERS),
        metadata={"description": "all：网格与企业；grids：仅网格面；enterprises：仅企业点"},
    )
