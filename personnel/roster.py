"""The grid-worker roster import (网格员花名册): an xlsx with the columns 姓名、手机号、乡镇、村/社区、网格
becomes one grid-worker account per row, put on its grid — all rows or none.

Every row is checked before anything is written, and every problem of every row is reported with its
row number (as Excel shows it), its column and a reason in Chinese: missing name, bad phone number, a
phone twice in the file or already someone's, unknown town, unknown village or one of another town,
unknown or ambiguous grid, a grid that does not take in the village. A dry run stops there; a real run
with any error writes nothing either. Places are resolved in one query for the whole file (a VALUES
list of the distinct town/village pairs joined to regions and grids), phones in another; the accounts,
assignments and audit entries are inserted in a few statements (``personnel.admin.insert_people``), in
the caller's one transaction.

Usernames are the phone numbers; each person gets a temporary password, handed back once in the
report, which must be changed at the first login. The 网格 column may be left blank when the village
has exactly one grid; it names a grid of the town by name (or id) otherwise."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from sqlalchemy import String, and_, column, func, or_, select, values
from sqlalchemy.orm import Session, aliased

from personnel.admin import insert_people, normalize_phone, require_manager
from accounts.models import User
from accounts.principal import Principal
from audit.service import record as audit
from core.clock import Clock
from core.errors import TooLarge, ValidationFailed
from core.inputs import bad_text
from geo.models import Grid, GridVillage, Region
from core.spreadsheets import (
    Column,
    Layout,
    Progress,
    RowError,
    SheetRow,
    blank_errors,
    cell_text,
    in_reading_order,
    read_sheet,
    refusal,
    rows_with_errors,
    text_errors,
)

__all__ = ["Progress", "RowError", "cell_text", "import_roster", "read_roster", "check_roster"]


class RosterUnreadable(ValidationFailed):
    code = "roster.unreadable"
    title = "无法读取花名册文件"


class RosterTooLarge(TooLarge):
    code = "roster.too_large"
    title = "花名册文件过大"


class RosterInvalid(ValidationFailed):
    code = "roster.invalid"
    title = "花名册有错误，未导入任何人员"


# Header spellings met in county rosters, compared without spaces and with ASCII brackets and slashes.
LAYOUT = Layout(
    code="roster",
    noun="花名册",
    columns=(
        Column("name", "姓名", ("网格员姓名", "名字"), required=True),
        Column("phone", "手机号", ("手机号码", "手机", "联系电话", "电话"), required=True),
        Column("town", "乡镇", ("乡镇(街道)", "乡镇/街道", "乡镇街道", "街道", "镇(街道)"), required=True),
        Column("village", "村/社区", ("村(社区)", "村社区", "村", "社区", "村(居)"), required=True),
        Column("grid", "网格", ("网格名称", "所属网格")),
    ),
    anchor="name",
    header_hint="未找到表头：应有 姓名、手机号、乡镇、村/社区、网格 列（网格可省略）",
    unreadable=RosterUnreadable,
    too_large=RosterTooLarge,
)
TITLES = {c.key: c.title for c in LAYOUT.columns}
REQUIRED = tuple(c.key for c in LAYOUT.columns if c.required)
MAX_ROWS = LAYOUT.max_rows
MAX_FILE_BYTES = LAYOUT.max_file_bytes
MAX_UNPACKED_BYTES = LAYOUT.max_unpacked_bytes


@dataclass
class RosterRow:
    row: int
    name: str
    phone: str
    town: str
    village: str
    grid: str


@dataclass
class RosterReport:
    dry_run: bool
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)
    written: bool = False

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "written": self.written,
            "created": len(self.people) if self.written else 0,
            "errors": [e.as_dict() for e in self.errors],
            "people": self.people,
        }


def read_roster(data: bytes) -> tuple[list[RosterRow], list[RowError]]:
    """The data rows of the first sheet (blank rows skipped) and the problems of the file as a whole."""
    sheet = read_sheet(LAYOUT, data)
    return [RosterRow(row=r.row, **{key: r[key] for key in TITLES}) for r in sheet.rows], sheet.errors


# --- checking ---------------------------------------------------------------------------------


def _check_row(row: RosterRow) -> tuple[str | None, list[RowError]]:
    """Format errors of one row; the phone as 11 digits when it is one."""
    cells = SheetRow(row.row, {key: getattr(row, key) for key in TITLES})
    errors = text_errors(LAYOUT, cells)
    bad = {e.column for e in errors}
    errors += blank_errors(LAYOUT, cells, REQUIRED, already=bad)
    phone = None
    if "手机号" not in bad and row.phone:
        phone = normalize_phone(row.phone)
        if phone is None:
            errors.append(RowError(row.row, "手机号", "roster.phone_invalid", f"“{row.phone}”不是 11 位中国大陆手机号"))
    return phone, errors


def _places(session: Session, principal: Principal, pairs: list[tuple[str, str]]) -> dict:
    """One query for every distinct (town, village) pair of the file: the town in the caller's scope by
    name or code, its village by name or code, the towns elsewhere that have such a village, and the
    town's grids with their villages. ``{(town, village): [rows]}``; several rows mean a name is ambiguous."""
    if not pairs:
        return {}
    wanted = values(column("town", String), column("village", String), name="wanted").data(pairs)
    town, village, other, other_town = aliased(Region), aliased(Region), aliased(Region), aliased(Region)
    elsewhere = (
        select(func.string_agg(other_town.name.distinct(), "、"))
        .select_from(other)
        .join(other_town, other_town.id == other.parent_id)
        .where(
            other.level == "village",
            or_(other.name == wanted.c.village, other.code == wanted.c.village),
            principal.region_filter(other.path),
        )
        .scalar_subquery()
    )
    grid_villages = (
        select(func.array_agg(GridVillage.village_id)).where(GridVillage.grid_id == Grid.id).scalar_subquery()
    )
    grids = (
        select(func.json_agg(func.json_build_object("id", Grid.id, "name", Grid.name, "villages", grid_villages)))
        .where(Grid.town_id == town.id, Grid.retired_at.is_(None))
        .scalar_subquery()
    )
    stmt = (
        select(
            wanted.c.town.label("want_town"),
            wanted.c.village.label("want_village"),
            town.id.label("town_id"),
            town.name.label("town_name"),
            village.id.label("village_id"),
            village.name.label("village_name"),
            elsewhere.label("elsewhere"),
            grids.label("grids"),
        )
        .select_from(wanted)
        .outerjoin(
            town,
            and_(
                town.level == "town",
                or_(town.name == wanted.c.town, town.code == wanted.c.town),
                principal.region_filter(town.path),
            ),
        )
        .outerjoin(
            village,
            and_(
                village.parent_id == town.id,
                village.level == "village",
                or_(village.name == wanted.c.village, village.code == wanted.c.village),
            ),
        )
    )
    found: dict[tuple[str, str], list] = {}
    for row in session.execute(stmt):
        found.setdefault((row.want_town, row.want_village), []).append(row)
    return found


def _place(row: RosterRow, rows: list) -> tuple[dict | None, list[RowError]]:
    towns = {r.town_id: r for r in rows if r.town_id is not None}
    if not towns:
        return None, [RowError(row.row, "乡镇", "roster.unknown_town", f"乡镇“{row.town}”不存在或不在您的辖区内")]
    if len(towns) > 1:
        return None, [
            RowError(
                row.row,
                "乡镇",
                "roster.ambiguous_town",
                f"有 {len(towns)} 个乡镇名为“{row.town}”，请填写 12 位区划代码",
            )
        ]
    villages = {r.village_id: r for r in rows if r.village_id is not None}
    first = next(iter(towns.values()))
    if not villages:
        if first.elsewhere:
            return None, [
                RowError(
                    row.row,
                    "村/社区",
                    "roster.village_not_in_town",
                    f"村/社区“{row.village}”不属于“{first.town_name}”（属于{first.elsewhere}）",
                )
            ]
        return None, [
            RowError(
                row.row, "村/社区", "roster.unknown_village", f"“{first.town_name}”没有名为“{row.village}”的村/社区"
            )
        ]
    if len(villages) > 1:
        return None, [
            RowError(
                row.row,
                "村/社区",
                "roster.ambiguous_village",
                f"“{first.town_name}”有多个“{row.village}”，请填写 12 位区划代码",
            )
        ]
    place = next(iter(villages.values()))
    village_id = str(place.village_id)
    grids = place.grids or []
    if row.grid:
        named = [g for g in grids if row.grid in (g["name"], g["id"])]
        if not named:
            return None, [
                RowError(
                    row.row, "网格", "roster.unknown_grid", f"“{place.town_name}”没有名为“{row.grid}”的网格（或已撤销）"
                )
            ]
        if len(named) > 1:
            return None, [
                RowError(
                    row.row,
                    "网格",
                    "roster.ambiguous_grid",
                    f"“{place.town_name}”有 {len(named)} 个名为“{row.grid}”的网格，请填写网格 id",
                )
            ]
        grid = named[0]
        if grid["villages"] and village_id not in grid["villages"]:
            return None, [
                RowError(
                    row.row,
                    "网格",
                    "roster.grid_not_in_village",
                    f"网格“{grid['name']}”不包含村/社区“{place.village_name}”",
                )
            ]
    else:
        covering = [g for g in grids if village_id in (g["villages"] or [])]
        if not covering:
            return None, [
                RowError(
                    row.row,
                    "网格",
                    "roster.no_grid",
                    f"村/社区“{place.village_name}”尚无网格，请先划分网格或在“网格”列填写",
                )
            ]
        if len(covering) > 1:
            return None, [
                RowError(
                    row.row,
                    "网格",
                    "roster.grid_required",
                    f"村/社区“{place.village_name}”有 {len(covering)} 个网格，请在“网格”列指明",
                )
            ]
        grid = covering[0]
    return {
        "town": place.town_name,
        "village": place.village_name,
        "village_id": place.village_id,
        "grid": {"id": uuid.UUID(grid["id"]), "name": grid["name"]},
    }, []


def check_roster(
    session: Session, principal: Principal, rows: list[RosterRow], progress: Progress
) -> tuple[list[dict], list[RowError]]:
    """Every row's problems, or the people to create."""
    progress.begin("检查", len(rows))
    errors: list[RowError] = []
    phones: dict[int, str] = {}
    first_row_of: dict[str, int] = {}
    for row in rows:
        phone, problems = _check_row(row)
        errors += problems
        if phone is not None:
            if phone in first_row_of:
                errors.append(
                    RowError(
                        row.row,
                        "手机号",
                        "roster.phone_duplicate_in_file",
                        f"手机号 {phone} 与第 {first_row_of[phone]} 行重复",
                    )
                )
            else:
                first_row_of[phone] = row.row
                phones[row.row] = phone
    # Whoever holds one of these numbers, as phone or as username (the username a row would get).
    holders: dict[str, tuple[str, bool]] = {}
    if first_row_of:
        numbers = list(first_row_of)
        for user in session.execute(
            select(User.phone, User.username, User.active).where(
                or_(User.phone.in_(numbers), User.username.in_(numbers))
            )
        ):
            for number in {user.phone, user.username} & set(numbers):
                holders[number] = (user.username, user.active)
    pairs = sorted(
        {(row.town, row.village) for row in rows if row.town and row.village and not bad_text(row.town + row.village)}
    )
    places = _places(session, principal, pairs)
    people = []
    for row in rows:
        phone = phones.get(row.row)
        if phone in holders:
            username, active = holders[phone]
            errors.append(
                RowError(
                    row.row,
                    "手机号",
                    "roster.phone_taken",
                    f"手机号 {phone} 已被账号 {username}{'' if active else '（已停用）'} 使用",
                )
            )
        place = None
        if (row.town, row.village) in places:
            place, problems = _place(row, places[(row.town, row.village)])
            errors += problems
        if place is not None and phone is not None and row.name:
            people.append({"row": row.row, "name": row.name, "phone": phone, "username": phone, **place})
        progress.advance(1)
    return people, errors


def import_roster(
    session: Session,
    clock: Clock,
    principal: Principal,
    data: bytes,
    *,
    dry_run: bool,
    filename: str | None = None,
    progress: Progress | None = None,
) -> RosterReport:
    """Check a roster and, unless ``dry_run``, create its people — all of them or, on any error, none
    (RosterInvalid carries every row error). The report lists each person with their username and,
    once written, their temporary password."""
    require_manager(principal)
    progress = progress or Progress()
    rows, errors = read_roster(data)
    report = RosterReport(dry_run=dry_run, rows=len(rows))
    if not errors:
        people, errors = check_roster(session, principal, rows, progress)
    if not errors and not rows:
        errors = [RowError(1, None, "roster.empty", "花名册没有数据行")]
    report.errors = in_reading_order(LAYOUT, errors)
    if report.errors:
        raise refusal(
            RosterInvalid,
            report.errors,
            f"花名册共 {len(rows)} 行，{rows_with_errors(report.errors)} 行有错误；未导入任何人员",
            report.as_dict(),
        )
    report.people = [
        {
            "row": p["row"],
            "name": p["name"],
            "phone": p["phone"],
            "username": p["username"],
            "town": p["town"],
            "village": p["village"],
            "grid": p["grid"],
        }
        for p in people
    ]
    if dry_run:
        return report
    progress.begin("写入", len(people))
    handed = insert_people(
        session,
        clock,
        principal,
        [
            {
                "row": p["row"],
                "username": p["username"],
                "name": p["name"],
                "roles": ["grid_worker"],
                "region_id": p["village_id"],
                "phone": p["phone"],
                "grid_ids": [p["grid"]["id"]],
            }
            for p in people
        ],
        action="import",
        progress=progress.advance,
    )
    for shown, made in zip(report.people, handed):
        shown["user_id"], shown["temporary_password"] = made["id"], made["temporary_password"]
    report.written = True
    audit(
        session,
        clock,
        principal,
        "import_roster",
        "roster",
        hashlib.sha256(data).hexdigest(),
        {
            "file": filename,
            "rows": len(rows),
            "created": len(people),
            **({"via": principal.extra["via"]} if principal.extra.get("via") else {}),
        },
    )
    session.flush()
    return report
