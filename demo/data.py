"""Loading the demo district into the database: regions, grids, enterprises, accounts.

Idempotent: when the demo district exists, nothing is written."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date

from geoalchemy2.shape import from_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.service import create_user
from core.clock import Clock
from demo.geometry import generate, random_points_in
from enterprises.models import Enterprise
from enterprises.uscc import make_uscc
from geo.models import Grid, GridAssignment, GridVillage, Region
from enterprises.placement import place_enterprises

DEMO_PASSWORD = "anxun-demo"
# The demo inspectors' 执法证 are valid to the end of 2028.
CERT_VALID_UNTIL = date(2028, 12, 31)
DISTRICT_CODE = "500299000000"
DISTRICT_NAME = "安巡示范县"
TOWN_NAMES = ["青石镇", "白沙镇", "龙溪镇", "桂花乡"]
VILLAGE_NAMES = [
    "石桥",
    "柏杨",
    "双河",
    "新华",
    "红岩",
    "金竹",
    "长岭",
    "高峰",
    "团结",
    "杉木",
    "凉水",
    "大坪",
    "黄桷",
    "水口",
    "观音",
    "龙井",
    "马鞍",
    "白果",
    "青杠",
    "松林",
    "鹿鸣",
    "花园",
    "三合",
    "五一",
    "复兴",
    "天星",
    "永安",
    "太平",
    "桃源",
    "李家",
    "梨树",
    "茶园",
    "民主",
    "和平",
    "光明",
    "石门",
    "中坝",
    "沙坝",
    "堰塘",
    "万福",
]

# (industry, subtype, how many, name pattern)
ENTERPRISE_MIX = [
    ("fireworks", "retail", 48, "{v}烟花爆竹零售点{n}"),
    ("fireworks", "wholesale", 6, "{v}烟花爆竹批发仓库{n}"),
    ("fireworks", "production", 4, "{v}花炮厂{n}"),
    ("hazardous_chemicals", "filling_station", 22, "{v}加油站{n}"),
    ("hazardous_chemicals", "trading", 34, "{v}化工产品经营部{n}"),
    ("hazardous_chemicals", "storage", 10, "{v}危化品仓储{n}"),
    ("hazardous_chemicals", "production", 10, "{v}化工有限公司{n}"),
    ("construction", "housing_municipal", 82, "{v}安置房建设项目{n}标段"),
    ("special_equipment", "user_unit", 100, "{v}机械厂{n}"),
    ("gas", "catering", 62, "{v}农家乐{n}"),
    ("gas", "operator", 10, "{v}燃气有限公司{n}"),
    ("gas", "station", 8, "{v}液化气供应站{n}"),
    ("gas", "other_user", 4, "{v}中心小学食堂{n}"),
]
RISK_WEIGHTS = [("red", 5), ("orange", 15), ("yellow", 40), ("blue", 40)]


@dataclass
class DemoSummary:
    created: bool
    towns: int = 0
    villages: int = 0
    grids: int = 0
    enterprises: int = 0
    accounts: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        if not self.created:
            return "demo district already loaded; nothing changed"
        return (
            f"demo district {DISTRICT_NAME} loaded: {self.towns} towns, {self.villages} villages, "
            f"{self.grids} grids, {self.enterprises} enterprises"
        )


ACCOUNTS = [
    ("admin", "管理员（全县）"),
    ("desk", f"内勤（{DISTRICT_NAME}安监办）"),
    ("inspector1", "执法人员（县应急管理综合行政执法大队）"),
    ("inspector2", "执法人员（县应急管理综合行政执法大队）"),
    ("gridworker1", f"网格员（{TOWN_NAMES[0]}第一个村）"),
    ("gridworker2", f"网格员（{TOWN_NAMES[0]}第二个村）"),
    ("gridworker3", f"网格员（{TOWN_NAMES[1]}）"),
    ("enterprise1", "企业安全员（gridworker1 网格内的烟花爆竹零售点）"),
]


def load_demo(session: Session, clock: Clock, seed: int = 20261122) -> DemoSummary:
    if session.scalar(select(Region.id).where(Region.code == DISTRICT_CODE)):
        return DemoSummary(created=False, accounts=ACCOUNTS)
    rng = random.Random(seed)
    district_geom, towns = generate(seed)
    district = Region(
        id=uuid.uuid4(),
        code=DISTRICT_CODE,
        name=DISTRICT_NAME,
        level="district",
        path=DISTRICT_CODE,
        geometry=from_shape(district_geom, srid=4326),
    )
    session.add(district)
    session.flush()

    village_rows: list[tuple[Region, object]] = []
    town_rows: list[Region] = []
    names = iter(VILLAGE_NAMES)
    for t, (town_geom, villages) in enumerate(towns):
        town_code = f"{DISTRICT_CODE[:6]}{100 + t:03d}000"
        town = Region(
            id=uuid.uuid4(),
            code=town_code,
            name=TOWN_NAMES[t],
            level="town",
            parent_id=district.id,
            path=f"{DISTRICT_CODE}.{town_code}",
            geometry=from_shape(town_geom, srid=4326),
        )
        session.add(town)
        town_rows.append(town)
        for v, village_geom in enumerate(villages):
            code = f"{town_code[:9]}{201 + v:03d}"
            name = next(names) + ("社区" if v == 0 else "村")
            village = Region(
                id=uuid.uuid4(),
                code=code,
                name=name,
                level="village",
                parent_id=town.id,
                path=f"{DISTRICT_CODE}.{town_code}.{code}",
                geometry=from_shape(village_geom, srid=4326),
            )
            session.add(village)
            village_rows.append((village, village_geom))
    session.flush()

    grids: dict[uuid.UUID, Grid] = {}
    for village, geom in village_rows:
        grid = Grid(
            id=uuid.uuid4(), name=f"{village.name}网格", town_id=village.parent_id, geometry=from_shape(geom, srid=4326)
        )
        session.add(grid)
        grids[village.id] = grid
    session.flush()
    session.add_all(GridVillage(grid_id=grids[v.id].id, village_id=v.id) for v, _ in village_rows)

    serial = 0
    enterprises = []
    first_village = village_rows[0]
    for industry, subtype, count, pattern in ENTERPRISE_MIX:
        for n in range(count):
            # The first fireworks retailer sits in gridworker1's village (enterprise1 is its officer).
            village, geom = (
                first_village
                if (industry, subtype, n) == ("fireworks", "retail", 0)
                else village_rows[rng.randrange(len(village_rows))]
            )
            point = random_points_in(geom, 1, rng)[0]
            serial += 1
            risk = rng.choices([r for r, _ in RISK_WEIGHTS], weights=[w for _, w in RISK_WEIGHTS])[0]
            village_short = village.name.removesuffix("村").removesuffix("社区")
            enterprises.append(
                Enterprise(
                    id=uuid.uuid4(),
                    name=pattern.format(v=village_short, n=n + 1 if n else ""),
                    uscc=make_uscc(f"91{DISTRICT_CODE[:6]}MA{serial:07d}"),
                    industry=industry,
                    subtype=subtype,
                    address=f"{DISTRICT_NAME}{village.name}{rng.randint(1, 12)}组{rng.randint(1, 99)}号",
                    risk=risk,
                    location=from_shape(point, srid=4326),
                    licences=_licences(industry, subtype, serial, rng),
                    legal_representative=_representative(serial),
                    contact_name="联系人" + str(serial),
                    contact_phone=f"1380000{serial:04d}",
                )
            )
    session.add_all(enterprises)
    session.flush()
    place_enterprises(session)

    now = clock.now()
    district_id = district.id
    admin = create_user(
        session, username="admin", name="系统管理员", password=DEMO_PASSWORD, roles=["admin"], region_id=district_id
    )
    create_user(
        session,
        username="desk",
        name="王内勤",
        password=DEMO_PASSWORD,
        roles=["desk_officer"],
        region_id=district_id,
        phone="13800001001",
    )
    create_user(
        session,
        username="inspector1",
        name="李执法",
        password=DEMO_PASSWORD,
        roles=["inspector"],
        region_id=district_id,
        enforcement_cert_no="50029920260001",
        enforcement_cert_valid_until=CERT_VALID_UNTIL,
    )
    create_user(
        session,
        username="inspector2",
        name="张执法",
        password=DEMO_PASSWORD,
        roles=["inspector"],
        region_id=district_id,
        enforcement_cert_no="50029920260002",
        enforcement_cert_valid_until=CERT_VALID_UNTIL,
    )
    town2_village = next(v for v, _ in village_rows if v.parent_id == town_rows[1].id)
    for username, name, village in (
        ("gridworker1", "赵网格", village_rows[0][0]),
        ("gridworker2", "钱网格", village_rows[1][0]),
        ("gridworker3", "孙网格", town2_village),
    ):
        worker = create_user(
            session, username=username, name=name, password=DEMO_PASSWORD, roles=["grid_worker"], region_id=village.id
        )
        session.add(
            GridAssignment(grid_id=grids[village.id].id, user_id=worker.id, assigned_at=now, assigned_by=admin.id)
        )
    retailer = enterprises[0]
    create_user(
        session,
        username="enterprise1",
        name="周安全员",
        password=DEMO_PASSWORD,
        roles=["enterprise_officer"],
        region_id=first_village[0].id,
        enterprise_id=retailer.id,
    )
    session.flush()
    return DemoSummary(
        created=True,
        towns=len(town_rows),
        villages=len(village_rows),
        grids=len(grids),
        enterprises=len(enterprises),
        accounts=ACCOUNTS,
    )


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = ["建国", "志强", "秀英", "海燕", "国华", "明", "丽", "伟", "德明", "春梅", "学军", "永红"]


def _representative(serial: int) -> str:
    """A 法定代表人 for the n-th demo enterprise (no draw from the seeded generator: the district stays as it was)."""
    return SURNAMES[serial % len(SURNAMES)] + GIVEN_NAMES[serial % len(GIVEN_NAMES)]


def _licences(industry: str, subtype: str, serial: int, rng: random.Random) -> list[dict]:
    kinds = {
        "fireworks": "烟花爆竹经营许可证",
        "hazardous_chemicals": "危险化学品经营许可证" if subtype != "production" else "安全生产许可证",
        "construction": "建筑施工企业安全生产许可证",
        "special_equipment": "特种设备使用登记证",
        "gas": "燃气经营许可证" if subtype in ("operator", "station") else None,
    }
    kind = kinds.get(industry)
    if not kind:
        return []
    valid_until = date(2027 + rng.randint(0, 2), rng.randint(1, 12), 1)
    return [{"kind": kind, "number": f"渝{industry[:2].upper()}{serial:06d}", "valid_until": valid_until.isoformat()}]
