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
import io
import math
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import String, and_, column, func, or_, select, values
from sqlalchemy.orm import Session, aliased

from personnel.admin import insert_people, normalize_phone, require_manager
from accounts.models import User
from accounts.principal import Principal
from audit.service import record as audit
from core.clock import Clock
from core.errors import FieldError, TooLarge, ValidationFailed
from core.inputs import bad_text
from geo.models import Grid, GridVillage, Region

TITLES = {"name": "姓名", "phone": "手机号", "town": "乡镇", "village": "村/社区", "grid": "网格"}
# Header spellings met in county rosters, compared without spaces and with ASCII brackets and slashes.
HEADERS = {
    "name": ("姓名", "网格员姓名", "名字"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "town": ("乡镇", "乡镇(街道)", "乡镇/街道", "乡镇街道", "街道", "镇(街道)"),
    "village": ("村/社区", "村(社区)", "村社区", "村", "社区", "村(居)"),
    "grid": ("网格", "网格名称", "所属网格"),
}
REQUIRED = ("name", "phone", "town", "village")
MAX_ROWS = 10_000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an xlsx is a zip: refuse a bomb before openpyxl inflates it
HEADER_SEARCH_ROWS = 20
MAX_TEXT = 100
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")


class RosterUnreadable(ValidationFailed):
    code = "roster.unreadable"
    title = "无法读取花名册文件"


class RosterTooLarge(TooLarge):
    code = "roster.too_large"
    title = "花名册文件过大"


class RosterInvalid(ValidationFailed):
    code = "roster.invalid"
    title = "花名册有错误，未导入任何人员"


@dataclass(frozen=True)
class RowError:
    row: int  # the row number Excel shows
    column: str | None  # the column title (姓名 …), None for the row or file as a whole
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


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


class Progress:
    """What an import tells as it goes (the CLI draws bars from it); by default nothing."""

    def begin(self, stage: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


def _reading_order(error: RowError):
    """Row by row, and within a row the columns as the sheet has them."""
    return error.row, list(TITLES.values()).index(error.column) if error.column in TITLES.values() else -1, error.code


# --- reading the file -------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as the text a person typed: numbers without a trailing .0 (a phone typed as a number),
    dates as ISO dates, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    text = str(value).replace("\u3000", " ").replace("\xa0", " ")
    return _INVISIBLE.sub("", text).strip()


def _header_key(text: str) -> str:
    text = re.sub(r"\s+", "", text).lstrip("*＊").translate(str.maketrans("（）／", "()/"))
    return text


_ALIASES = {_header_key(alias): key for key, aliases in HEADERS.items() for alias in aliases}


def read_roster(data: bytes) -> tuple[list[RosterRow], list[RowError]]:
    """The data rows of the first sheet (blank rows skipped) and the problems of the file as a whole."""
    if len(data) > MAX_FILE_BYTES:
        raise RosterTooLarge(f"花名册文件不能超过 {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise RosterTooLarge("花名册解压后过大")
        rows = _sheet_rows(data)
        header_at, columns = _find_header(rows)
    except (RosterTooLarge, RosterUnreadable):
        raise
    except Exception as err:  # whatever a damaged or foreign file makes openpyxl raise, it is the file's fault
        raise RosterUnreadable("文件不是有效的 xlsx 工作簿（请用 Excel 或 WPS 另存为 .xlsx）") from err
    if header_at is None:
        return [], [
            RowError(
                1, None, "roster.no_header", "未找到表头：应有 " + "、".join(TITLES.values()) + " 列（网格可省略）"
            )
        ]
    missing = [key for key in REQUIRED if key not in columns]
    if missing:
        return [], [
            RowError(header_at, TITLES[key], "roster.missing_column", f"表头缺少“{TITLES[key]}”列") for key in missing
        ]
    people, errors = [], []
    for number, cells in rows[header_at:]:
        texts = {key: cell_text(cells[index]) if index < len(cells) else "" for key, index in columns.items()}
        if not any(texts.values()):
            continue
        if len(people) >= MAX_ROWS:
            errors.append(RowError(number, None, "roster.too_many_rows", f"花名册最多 {MAX_ROWS} 行，请分批导入"))
            break
        people.append(
            RosterRow(
                row=number,
                name=texts["name"],
                phone=texts["phone"],
                town=texts["town"],
                village=texts["village"],
                grid=texts.get("grid", ""),
            )
        )
    return people, errors


def _sheet_rows(data: bytes) -> list[tuple[int, tuple]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for cells in sheet.iter_rows():
            cells = tuple(cells)
            number = next((getattr(c, "row", None) for c in cells if getattr(c, "row", None)), None)
            rows.append((number, tuple(getattr(c, "value", None) for c in cells)))
            if len(rows) > MAX_ROWS * 2 + HEADER_SEARCH_ROWS:
                break  # blank rows past the limit are not read; the check below reports the rest
        # A read-only sheet gives no number to a row of empty cells: it follows the one before.
        numbered, last = [], 0
        for number, values_ in rows:
            last = number if number else last + 1
            numbered.append((last, values_))
        return numbered
    finally:
        workbook.close()


def _find_header(rows) -> tuple[int | None, dict[str, int]]:
    for position, (number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for index, value in enumerate(cells):
            key = _ALIASES.get(_header_key(cell_text(value)))
            if key and key not in columns:
                columns[key] = index
        if "name" in columns and len(columns) >= 2:
            return position + 1, columns
    return None, {}


# --- checking ---------------------------------------------------------------------------------


def _check_row(row: RosterRow) -> tuple[str | None, list[RowError]]:
    """Format errors of one row; the phone as 11 digits when it is one."""
    errors = []
    for key in TITLES:
        text = getattr(row, key)
        if bad_text(text):
            errors.append(RowError(row.row, TITLES[key], "roster.bad_text", "含有无法保存的字符"))
        elif len(text) > MAX_TEXT:
            errors.append(RowError(row.row, TITLES[key], "roster.too_long", f"不能超过 {MAX_TEXT} 个字"))
    bad = {e.column for e in errors}
    if not row.name and "姓名" not in bad:
        errors.append(RowError(row.row, "姓名", "roster.name_missing", "姓名为空"))
    phone = None
    if "手机号" not in bad:
        if not row.phone:
            errors.append(RowError(row.row, "手机号", "roster.phone_missing", "手机号为空"))
        else:
            phone = normalize_phone(row.phone)
            if phone is None:
                errors.append(
                    RowError(row.row, "手机号", "roster.phone_invalid", f"“{row.phone}”不是 11 位中国大陆手机号")
                )
    if not row.town and "乡镇" not in bad:
        errors.append(RowError(row.row, "乡镇", "roster.town_missing", "乡镇为空"))
    if not row.village and "村/社区" not in bad:
        errors.append(RowError(row.row, "村/社区", "roster.village_missing", "村/社区为空"))
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
    report.errors = sorted(set(errors), key=_reading_order)
    if report.errors:
        raise RosterInvalid(
            f"花名册共 {len(rows)} 行，{len({e.row for e in report.errors})} 行有错误；未导入任何人员",
            errors=[
                FieldError(
                    e.code,
                    f"rows.{e.row}" + (f".{e.column}" if e.column else ""),
                    f"第 {e.row} 行" + (f"“{e.column}”" if e.column else "") + f"：{e.message}",
                )
                for e in report.errors
            ],
            extra={"report": report.as_dict()},
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
