"""Monthly figures (月度统计, for 月排名、月通报、月考核), computed by the database in one statement.

For a month and a set of regions (each counting everything in its subtree):

- done in the month, by when it was done (so late-syncing phones still count): inspections by kind
  (superseded ones left out), hazards found by level and by source (the enterprise's own 自查 apart from
  inspectors', grid workers' and the public's), hazards closed (销号), enterprises patrolled
  out of all enterprises (what counts as patrolled: ``inspections.service.PATROLLED_SQL``);
- as the hazard ledger stood at ``as_of`` (the month's end, or now for the running month), replayed
  from ``hazard_events``: overdue, major hazards open, of them under 挂牌督办; closure rate = hazards
  found in the month and closed by ``as_of`` / hazards found in the month;
- a ranking among regions with the same parent (the towns of a district): patrol coverage first, then
  closure rate, then fewer overdue — finding nothing ranks below finding and closing;
- 行政处罚: cases decided in the month (by when decided, as of ``as_of``) and the fines of them;
- per inspecting office: what the inspectors whose account sits at the region node did, wherever.

Once a month is over and ``figures_grace_days`` have passed, the ``monthly_figures`` job freezes the
figures of every region in ``monthly_figures``; the stats API serves the frozen row when there is one
and computes the same statement live otherwise."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from audit.service import record as audit
from core.clock import Clock
from geo.models import Region
from inspections.models import HAZARD_SOURCES, INSPECTION_KINDS
from inspections.service import PATROLLED_SQL
from core.periods import Period, local_date, month_period
from reports.models import MonthlyFigures

FIGURE_COLUMNS = (
    "inspections",
    "inspections_by_kind",
    "hazards_found",
    "hazards_found_major",
    "hazards_found_by_source",
    "hazards_closed",
    "closure_rate",
    "hazards_closed_in_month",
    "overdue",
    "major_open",
    "major_supervised",
    "enterprises",
    "enterprises_patrolled",
    "patrol_coverage",
    "penalty_cases",
    "penalty_amount",
    "rank",
    "rank_of",
    "office",
)
ROW_COLUMNS = ("region_id", "month", "as_of", "computed_at") + FIGURE_COLUMNS

_FIGURES_SQL = """
WITH target AS (
    SELECT r.id, r.path, r.parent_id FROM regions r WHERE {target}
),
within AS (
    -- Each region with every target whose subtree holds it (itself included): the target's path is
    -- one of the region's path prefixes, an equality join instead of <@ against every target. Rows
    -- join this by region id, so the path work is done once per region, not per hazard or inspection.
    SELECT v.id AS region_id, t.id AS target_id
      FROM regions v CROSS JOIN LATERAL generate_series(1, nlevel(v.path)) AS prefix(n)
      JOIN target t ON t.path = subpath(v.path, 0, prefix.n)
),
month_inspections AS (
    SELECT i.id, i.kind, i.enterprise_id, i.inspector_ids, i.region_id
      FROM inspections i JOIN regions v ON v.id = i.region_id
     WHERE i.started_at >= :month_start AND i.started_at < :month_end {scope}
       AND NOT EXISTS (SELECT 1 FROM inspections c WHERE c.supersedes = i.id)
),
inspection_kinds AS (
    SELECT w.target_id AS region_id, mi.kind, count(*) AS n
      FROM month_inspections mi JOIN within w ON w.region_id = mi.region_id
     GROUP BY w.target_id, mi.kind
),
inspection_counts AS (
    SELECT region_id, sum(n) AS inspections, jsonb_object_agg(kind, n) AS by_kind
      FROM inspection_kinds GROUP BY region_id
),
hazard_rows AS (
    SELECT h.id, h.level, h.source, h.found_at, h.closed_at, h.found_by, h.region_id, st.status, dl.deadline,
           sv.hazard_id IS NOT NULL AS supervised
      FROM hazards h
      JOIN regions v ON v.id = h.region_id
      LEFT JOIN LATERAL (SELECT e.to_status AS status FROM hazard_events e
                          WHERE e.hazard_id = h.id AND e.at <= :as_of
                          ORDER BY e.version DESC, e.id DESC LIMIT 1) st ON true
      LEFT JOIN LATERAL (SELECT CAST(e.data ->> 'deadline' AS timestamptz) AS deadline FROM hazard_events e
                          WHERE e.hazard_id = h.id AND e.at <= :as_of AND e.data ->> 'deadline' IS NOT NULL
                          ORDER BY e.version DESC, e.id DESC LIMIT 1) dl ON true
      LEFT JOIN LATERAL (SELECT e.hazard_id FROM hazard_events e
                          WHERE e.hazard_id = h.id AND e.at <= :as_of AND e.action = 'supervise'
                          LIMIT 1) sv ON true
     WHERE ((h.found_at >= :month_start AND h.found_at < :month_end)
            OR h.closed_at IS NULL OR h.closed_at >= :month_start) {scope}
),
hazard_counts AS (
    SELECT w.target_id AS region_id,
           count(*) FILTER (WHERE hr.found_at >= :month_start AND hr.found_at < :month_end) AS found,
           count(*) FILTER (WHERE hr.found_at >= :month_start AND hr.found_at < :month_end
                              AND hr.level = 'major') AS found_major,
           count(*) FILTER (WHERE hr.found_at >= :month_start AND hr.found_at < :month_end
                              AND hr.closed_at <= :as_of) AS closed,
           count(*) FILTER (WHERE hr.closed_at >= :month_start AND hr.closed_at < :month_end
                              AND hr.closed_at <= :as_of) AS closed_in_month,
           count(*) FILTER (WHERE hr.status = 'ordered' AND hr.deadline < :as_of) AS overdue,
           count(*) FILTER (WHERE hr.level = 'major' AND hr.status IN ('reported', 'ordered', 'submitted'))
               AS major_open,
           count(*) FILTER (WHERE hr.level = 'major' AND hr.status IN ('reported', 'ordered', 'submitted')
                              AND hr.supervised) AS major_supervised
      FROM hazard_rows hr JOIN within w ON w.region_id = hr.region_id
     GROUP BY w.target_id
),
case_counts AS (
    SELECT w.target_id AS region_id, count(*) AS cases, sum(c.amount) AS amount
      FROM cases c JOIN regions v ON v.id = c.region_id JOIN within w ON w.region_id = c.region_id
     WHERE c.decided_at >= :month_start AND c.decided_at < :month_end AND c.decided_at <= :as_of {scope}
     GROUP BY w.target_id
),
hazard_sources AS (
    SELECT w.target_id AS region_id, jsonb_object_agg(s.source, s.n) AS by_source
      FROM (SELECT hr.region_id, hr.source, count(*) AS n FROM hazard_rows hr
             WHERE hr.found_at >= :month_start AND hr.found_at < :month_end
             GROUP BY hr.region_id, hr.source) s
      JOIN within w ON w.region_id = s.region_id
     GROUP BY w.target_id
),
patrolled AS (
    SELECT DISTINCT pr.enterprise_id FROM ({patrolled}) AS pr(enterprise_id, at)
     WHERE pr.at >= :month_start AND pr.at < :month_end
),
enterprise_counts AS (
    SELECT w.target_id AS region_id, count(*) AS enterprises, count(pe.enterprise_id) AS patrolled
      FROM within w
      JOIN enterprises e ON e.region_id = w.region_id
      LEFT JOIN patrolled pe ON pe.enterprise_id = e.id
     GROUP BY w.target_id
),
office_kinds AS (
    SELECT u.region_id, mi.kind, count(DISTINCT mi.id) AS n, count(DISTINCT mi.enterprise_id) AS enterprises
      FROM month_inspections mi JOIN users u ON u.id = ANY(mi.inspector_ids)
     GROUP BY u.region_id, mi.kind
),
office_inspections AS (
    SELECT region_id, sum(n) AS inspections, jsonb_object_agg(kind, n) AS by_kind
      FROM office_kinds GROUP BY region_id
),
office_enterprises AS (
    SELECT u.region_id, count(DISTINCT mi.enterprise_id) AS enterprises
      FROM month_inspections mi JOIN users u ON u.id = ANY(mi.inspector_ids)
     GROUP BY u.region_id
),
office_hazards AS (
    SELECT u.region_id, count(*) AS found, count(*) FILTER (WHERE hr.level = 'major') AS found_major
      FROM hazard_rows hr JOIN users u ON u.id = hr.found_by
     WHERE hr.found_at >= :month_start AND hr.found_at < :month_end
     GROUP BY u.region_id
),
figures AS (
    SELECT t.id AS region_id, t.parent_id,
           CAST(coalesce(ic.inspections, 0) AS integer) AS inspections,
           (SELECT jsonb_object_agg(k, coalesce(CAST(ic.by_kind ->> k AS integer), 0))
              FROM unnest(CAST(:kinds AS text[])) AS k) AS inspections_by_kind,
           CAST(coalesce(hc.found, 0) AS integer) AS hazards_found,
           CAST(coalesce(hc.found_major, 0) AS integer) AS hazards_found_major,
           (SELECT jsonb_object_agg(k, coalesce(CAST(hs.by_source ->> k AS integer), 0))
              FROM unnest(CAST(:sources AS text[])) AS k) AS hazards_found_by_source,
           CAST(coalesce(hc.closed, 0) AS integer) AS hazards_closed,
           CAST(hc.closed AS float) / NULLIF(hc.found, 0) AS closure_rate,
           CAST(coalesce(hc.closed_in_month, 0) AS integer) AS hazards_closed_in_month,
           CAST(coalesce(hc.overdue, 0) AS integer) AS overdue,
           CAST(coalesce(hc.major_open, 0) AS integer) AS major_open,
           CAST(coalesce(hc.major_supervised, 0) AS integer) AS major_supervised,
           CAST(coalesce(ec.enterprises, 0) AS integer) AS enterprises,
           CAST(coalesce(ec.patrolled, 0) AS integer) AS enterprises_patrolled,
           CAST(ec.patrolled AS float) / NULLIF(ec.enterprises, 0) AS patrol_coverage,
           CAST(coalesce(cc.cases, 0) AS integer) AS penalty_cases,
           CAST(coalesce(cc.amount, 0) AS numeric(14, 2)) AS penalty_amount,
           jsonb_build_object(
               'inspections', coalesce(oi.inspections, 0),
               'inspections_by_kind', (SELECT jsonb_object_agg(k, coalesce(CAST(oi.by_kind ->> k AS integer), 0))
                                         FROM unnest(CAST(:kinds AS text[])) AS k),
               'enterprises_inspected', coalesce(oe.enterprises, 0),
               'hazards_found', coalesce(oh.found, 0),
               'hazards_found_major', coalesce(oh.found_major, 0)) AS office
      FROM target t
      LEFT JOIN inspection_counts ic ON ic.region_id = t.id
      LEFT JOIN hazard_counts hc ON hc.region_id = t.id
      LEFT JOIN hazard_sources hs ON hs.region_id = t.id
      LEFT JOIN enterprise_counts ec ON ec.region_id = t.id
      LEFT JOIN case_counts cc ON cc.region_id = t.id
      LEFT JOIN office_inspections oi ON oi.region_id = t.id
      LEFT JOIN office_enterprises oe ON oe.region_id = t.id
      LEFT JOIN office_hazards oh ON oh.region_id = t.id
)
SELECT f.region_id, CAST(:month AS date) AS month, CAST(:as_of AS timestamptz) AS as_of,
       CAST(:computed_at AS timestamptz) AS computed_at,
       f.inspections, f.inspections_by_kind, f.hazards_found, f.hazards_found_major, f.hazards_found_by_source,
       f.hazards_closed,
       f.closure_rate, f.hazards_closed_in_month, f.overdue, f.major_open, f.major_supervised,
       f.enterprises, f.enterprises_patrolled, f.patrol_coverage, f.penalty_cases, f.penalty_amount,
       CAST(rank() OVER (PARTITION BY f.parent_id ORDER BY f.patrol_coverage DESC NULLS LAST,
                         f.closure_rate DESC NULLS LAST, f.overdue) AS integer) AS rank,
       CAST(count(*) OVER (PARTITION BY f.parent_id) AS integer) AS rank_of,
       f.office
  FROM figures f
"""


def month_of(clock: Clock) -> Period:
    today = local_date(clock.now())
    return month_period(today.year, today.month)


def previous_month(period: Period) -> Period:
    last_day = period.first_day - timedelta(days=1)
    return month_period(last_day.year, last_day.month)


def _statement(*, all_regions: bool, scope_path: str | None):
    scope = "AND v.path <@ CAST(:scope_path AS ltree)" if scope_path else ""
    target = "true" if all_regions else "r.id = ANY(:targets)"
    return text(_FIGURES_SQL.format(target=target, scope=scope, patrolled=PATROLLED_SQL))


def _params(month: Period, as_of: datetime, computed_at: datetime, **extra) -> dict:
    return {
        "month_start": month.start,
        "month_end": month.end,
        "month": month.first_day,
        "as_of": as_of,
        "computed_at": computed_at,
        "kinds": list(INSPECTION_KINDS),
        "sources": list(HAZARD_SOURCES),
        **extra,
    }


def live_figures(session: Session, clock: Clock, month: Period, region: Region) -> dict:
    """A region's figures and its children's, computed now: ``as_of`` is the month's end once it has
    passed. The region's siblings are computed too, so its rank is among all of them."""
    now = clock.now()
    as_of = min(now, month.end)
    parent_path = session.scalar(select(Region.path).where(Region.id == region.parent_id)) if region.parent_id else None
    targets = list(
        session.scalars(
            select(Region.id).where(
                (Region.parent_id == region.parent_id) if region.parent_id else Region.parent_id.is_(None)
            )
        )
    )
    targets += list(session.scalars(select(Region.id).where(Region.parent_id == region.id)))
    params = _params(month, as_of, now, targets=targets)
    if parent_path:
        params["scope_path"] = parent_path
    rows = session.execute(_statement(all_regions=False, scope_path=parent_path), params).mappings().all()
    return {row["region_id"]: dict(row) for row in rows}


def frozen_figures(session: Session, month: Period, region: Region) -> dict:
    """The frozen rows of a region and its children for a month (empty when the month is not frozen)."""
    ids = select(Region.id).where((Region.id == region.id) | (Region.parent_id == region.id))
    rows = session.scalars(
        select(MonthlyFigures).where(MonthlyFigures.month == month.first_day, MonthlyFigures.region_id.in_(ids))
    )
    return {row.region_id: {c: getattr(row, c) for c in ROW_COLUMNS} for row in rows}


def freeze_month(session: Session, clock: Clock, month: Period, *, replace: bool = False) -> int:
    """Store every region's figures for a finished month; returns how many rows were written. Without
    ``replace`` a month already frozen is left as published."""
    now = clock.now()
    if now < month.end:
        raise ValueError(f"month {month.key} has not ended")
    conflict = (
        ("DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in ROW_COLUMNS[2:])) if replace else "DO NOTHING"
    )
    columns = ", ".join(ROW_COLUMNS)
    statement = text(
        f"INSERT INTO monthly_figures ({columns}) SELECT {columns} FROM ("
        f"{_statement(all_regions=True, scope_path=None).text}) AS computed "
        f"ON CONFLICT (region_id, month) {conflict}"
    )
    written = session.execute(statement, _params(month, month.end, now)).rowcount
    if written:
        audit(session, clock, None, "replace" if replace else "freeze", "monthly_figures", month.key, {"rows": written})
    return written


def month_to_freeze(clock: Clock, grace_days: int) -> Period:
    """The latest month whose end lies at least ``grace_days`` back."""
    day: date = local_date(clock.now()) - timedelta(days=grace_days)
    return previous_month(month_period(day.year, day.month))


def freeze_due_month(session: Session, clock: Clock, grace_days: int) -> dict:
    """The ``monthly_figures`` job: freeze the latest month past its grace days, unless already frozen.
    Daily, so a missed day catches up; a second run writes nothing."""
    month = month_to_freeze(clock, grace_days)
    if session.scalar(select(MonthlyFigures.region_id).where(MonthlyFigures.month == month.first_day).limit(1)):
        return {"month": month.key, "rows": 0, "already_frozen": True}
    return {"month": month.key, "rows": freeze_month(session, clock, month), "already_frozen": False}
