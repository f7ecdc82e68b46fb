"""The benchmark county, built in SQL in its own database (``anxun_bench``), never row by row through the
API: village boundaries are Voronoi cells of random points (``ST_VoronoiPolygons``), grouped into towns
by k-means (``ST_ClusterKMeans``); enterprises are random points in their village
(``ST_GeneratePoints``); hazards, their events and tasks come from ``generate_series`` and set-based
``INSERT … SELECT``. The change-feed triggers stay on, so the feed is as a real county's would be.

At scale 1: 1 district, 25 towns, 5,000 villages (one grid each), 100,000 enterprises across the five
industries (the demo's mix), 1,000 grid workers (5 grids each), 200,000 historical hazards (half of
them closed: the xlsx export of closed hazards is 100,000 rows) with ~600,000 events, and one open
patrol task per enterprise. Tokens are made up front (``token_for``), so no phone logs in during a
measurement and a reused database keeps working."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import psycopg2
from sqlalchemy.engine import make_url

from bench.config import BENCH_DB, BENCH_PASSWORD, Sizes

DISTRICT_CODE = "500288000000"
DISTRICT_NAME = "安巡基准县"
CENTRE = (107.8, 30.7)
SEED = 20261122

TOWN_NAMES = [
    "青石",
    "白沙",
    "龙溪",
    "桂花",
    "双凤",
    "石龙",
    "太和",
    "永兴",
    "新场",
    "金山",
    "玉河",
    "清平",
    "凤鸣",
    "大兴",
    "长安",
    "水口",
    "高观",
    "三江",
    "黄泥",
    "柏林",
    "仁和",
    "兴隆",
    "安乐",
    "福田",
    "石城",
]
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
HAZARD_TEXTS = [
    "安全出口堵塞",
    "灭火器过期未更换",
    "电气线路私拉乱接",
    "仓库超量储存",
    "未按规定设置警示标志",
    "特种作业人员无证上岗",
    "燃气管道未安装泄漏报警装置",
    "脚手架连墙件缺失",
    "安全培训记录不全",
    "应急预案未演练",
    "消防通道被占用",
    "危化品混存",
    "防雷检测过期",
    "叉车未定期检验",
]


def token_for(username: str) -> str:
    """The bearer token the dataset issues to a benchmark account (a throwaway database)."""
    return f"bench-token-{username}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def phone_usernames(sizes: Sizes, count: int) -> list[str]:
    """Grid workers spread over the county (every n-th one), one per phone."""
    stride = max(1, sizes.workers // max(count, 1))
    return [worker_name((i * stride) % sizes.workers) for i in range(count)]


def worker_name(index: int) -> str:
    return f"gw{index + 1:04d}"


@dataclass
class BuildReport:
    seconds: float
    steps: dict
    counts: dict


def server_and_bench_url(database_url: str) -> tuple[str, str]:
    """(URL of the server's maintenance database, URL of the benchmark database) on the same server."""
    url = make_url(database_url)
    return (
        url.set(database="postgres").render_as_string(hide_password=False),
        url.set(database=BENCH_DB).render_as_string(hide_password=False),
    )


def dsn(url: str) -> str:
    """A psycopg2 DSN from an SQLAlchemy URL."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def existing_scale(bench_url: str) -> float | None:
    try:
        with psycopg2.connect(dsn(bench_url), connect_timeout=5) as conn, conn.cursor() as cur:
            cur.execute("SELECT scale FROM bench_meta")
            row = cur.fetchone()
            return float(row[0]) if row else None
    except psycopg2.Error:
        return None


def recreate_database(server_url: str) -> None:
    conn = psycopg2.connect(dsn(server_url))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    conn.close()


def build(database_url: str, sizes: Sizes, log=print) -> BuildReport:
    """Drop and re-create ``anxun_bench``, migrate, publish the checklists and load the county."""
    from db.migrate import upgrade

    server_url, bench_url = server_and_bench_url(database_url)
    started = time.perf_counter()
    steps: dict[str, float] = {}

    def step(name, fn):
        t0 = time.perf_counter()
        fn()
        steps[name] = round(time.perf_counter() - t0, 2)
        log(f"  {name:<28} {steps[name]:7.2f} s")

    step("create database", lambda: recreate_database(server_url))
    step("migrate", lambda: upgrade(bench_url))
    step("publish checklists", lambda: _publish(bench_url))
    conn = psycopg2.connect(dsn(bench_url))
    try:
        with conn:
            with conn.cursor() as cur:
                cur.execute("SET synchronous_commit = off")  # a throwaway database: build fast
        for name, sql, params in _statements(sizes):

            def run(sql=sql, params=params):
                with conn, conn.cursor() as cur:
                    cur.execute(sql, params)

            step(name, run)
        conn.autocommit = True
        step("analyze", lambda: conn.cursor().execute("VACUUM ANALYZE"))
        with conn.cursor() as cur:
            counts = {}
            for table in (
                "regions",
                "grids",
                "enterprises",
                "users",
                "grid_assignments",
                "hazards",
                "hazard_events",
                "tasks",
                "change_log",
            ):
                cur.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cur.fetchone()[0]
    finally:
        conn.close()
    return BuildReport(seconds=round(time.perf_counter() - started, 1), steps=steps, counts=counts)


def _publish(bench_url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from checklists.service import publish_templates
    from core.clock import Clock

    engine = create_engine(bench_url)
    with Session(engine) as session, session.begin():
        publish_templates(session, Clock())
    engine.dispose()


def _mix_values() -> str:
    """The demo's industry mix as 400 slots; enterprise n takes slot (n·7919) mod 400, so each block of
    400 enterprises has exactly the demo's proportions."""
    from demo.data import ENTERPRISE_MIX

    rows = []
    slot = 0
    for industry, subtype, count, pattern in ENTERPRISE_MIX:
        for _ in range(count):
            rows.append(f"({slot}, '{industry}', '{subtype}', '{pattern}')")
            slot += 1
    return ", ".join(rows), slot


def _statements(sizes: Sizes):
    from accounts.service import hash_password

    width = 1.0 * math.sqrt(sizes.scale)
    height = 0.8 * math.sqrt(sizes.scale)
    x0, y0 = CENTRE[0] - width / 2, CENTRE[1] - height / 2
    env = {"x0": x0, "y0": y0, "x1": x0 + width, "y1": y0 + height}
    mix, slots = _mix_values()
    town_names = "ARRAY[" + ",".join(f"'{n}'" for n in TOWN_NAMES) + "]"
    village_names = "ARRAY[" + ",".join(f"'{n}'" for n in VILLAGE_NAMES) + "]"
    hazard_texts = "ARRAY[" + ",".join(f"'{n}'" for n in HAZARD_TEXTS) + "]"
    password_hash = hash_password(BENCH_PASSWORD)
    base = {"seed": SEED, "district": DISTRICT_CODE, "district_name": DISTRICT_NAME, **env}

    yield (
        "villages (Voronoi)",
        f"""
        CREATE TABLE bench_meta (scale float NOT NULL, built_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO bench_meta (scale) VALUES (%(scale)s);
        CREATE TEMP TABLE d AS SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326) AS g;
        CREATE TEMP TABLE cells AS
            SELECT ST_Intersection(v.cell, d.g) AS cell
              FROM d, LATERAL (SELECT (ST_Dump(ST_VoronoiPolygons(ST_GeneratePoints(d.g, %(villages)s, %(seed)s),
                                                                 0, d.g))).geom AS cell) v;
        CREATE TEMP TABLE clustered AS
            SELECT cell, ST_ClusterKMeans(ST_Centroid(cell), %(towns)s) OVER () AS cluster FROM cells;
        -- Boundaries with ~200 m vertex spacing, snapped to 1e-7° so neighbours share edges exactly.
        CREATE TEMP TABLE v AS
            SELECT cluster,
                   ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SnapToGrid(ST_Segmentize(cell, 0.002), 1e-7)), 3)) AS geom
              FROM clustered;
        CREATE TEMP TABLE t AS
            SELECT cluster, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3)) AS geom,
                   gen_random_uuid() AS id
              FROM v GROUP BY cluster;
        ALTER TABLE t ADD COLUMN n int;
        UPDATE t SET n = o.n FROM (SELECT cluster, row_number() OVER (ORDER BY ST_Y(ST_Centroid(geom)) DESC,
                                                                       ST_X(ST_Centroid(geom))) - 1 AS n FROM t) o
         WHERE o.cluster = t.cluster;
        ALTER TABLE t ADD COLUMN code text;
        UPDATE t SET code = substr(%(district)s, 1, 6) || lpad((100 + n)::text, 3, '0') || '000';
        CREATE TEMP TABLE vil AS
            SELECT gen_random_uuid() AS id, gen_random_uuid() AS grid_id, t.id AS town_id, t.code AS town_code,
                   v.geom, row_number() OVER (PARTITION BY v.cluster ORDER BY ST_Y(ST_Centroid(v.geom)) DESC,
                                              ST_X(ST_Centroid(v.geom))) AS n
              FROM v JOIN t USING (cluster);
        ALTER TABLE vil ADD COLUMN code text, ADD COLUMN name text, ADD COLUMN k int, ADD COLUMN ord int;
        UPDATE vil SET code = substr(town_code, 1, 9) || lpad((200 + n)::text, 3, '0'),
                       name = ({village_names})[1 + (n - 1) %% {len(VILLAGE_NAMES)}]
                              || CASE WHEN n > {len(VILLAGE_NAMES)} THEN ((n - 1) / {len(VILLAGE_NAMES)} + 1)::text ELSE '' END
                              || CASE WHEN n = 1 THEN '社区' ELSE '村' END;
        UPDATE vil SET ord = o.ord FROM (SELECT id, row_number() OVER (ORDER BY code) - 1 AS ord FROM vil) o
         WHERE o.id = vil.id;
        CREATE UNIQUE INDEX ON vil (ord);
        ANALYZE vil;
        """,
        base | {"villages": sizes.villages, "towns": sizes.towns, "scale": sizes.scale},
    )

    yield (
        "regions and grids",
        f"""
        INSERT INTO regions (id, code, name, level, parent_id, path, geometry)
        SELECT gen_random_uuid(), %(district)s, %(district_name)s, 'district', NULL, text2ltree(%(district)s),
               ST_Multi(ST_Union(geom)) FROM t;
        INSERT INTO regions (id, code, name, level, parent_id, path, geometry)
        SELECT t.id, t.code,
               ({town_names})[1 + t.n %% {len(TOWN_NAMES)}]
                 || CASE WHEN t.n >= {len(TOWN_NAMES)} THEN (t.n / {len(TOWN_NAMES)} + 1)::text ELSE '' END || '镇',
               'town', (SELECT id FROM regions WHERE code = %(district)s),
               text2ltree(%(district)s || '.' || t.code), t.geom
          FROM t;
        INSERT INTO regions (id, code, name, level, parent_id, path, geometry)
        SELECT id, code, name, 'village', town_id, text2ltree(%(district)s || '.' || town_code || '.' || code), geom
          FROM vil;
        INSERT INTO grids (id, name, town_id, geometry, version, created_at, updated_at)
        SELECT grid_id, name || '网格', town_id, geom, 1, now(), now() FROM vil;
        INSERT INTO grid_villages (grid_id, village_id) SELECT grid_id, id FROM vil;
        """,
        base,
    )

    yield (
        "users and assignments",
        """
        INSERT INTO users (id, username, name, password_hash, roles, region_id, enforcement_cert_no, phone)
        SELECT gen_random_uuid(), u.username, u.name, %(pw)s, u.roles, (SELECT id FROM regions WHERE code = %(district)s),
               u.cert, NULL
          FROM (VALUES ('admin', '基准管理员', ARRAY['admin'], NULL),
                       ('desk', '基准内勤', ARRAY['desk_officer'], NULL),
                       ('inspector1', '基准执法一', ARRAY['inspector'], '50028820260001'),
                       ('inspector2', '基准执法二', ARRAY['inspector'], '50028820260002')) AS u(username, name, roles, cert);
        -- Grid worker w works grids w·k … w·k+k−1 (in code order: neighbours in one town, mostly).
        CREATE TEMP TABLE w AS
            SELECT gen_random_uuid() AS id, i AS w, 'gw' || lpad((i + 1)::text, 4, '0') AS username
              FROM generate_series(0, %(workers)s - 1) AS i;
        CREATE UNIQUE INDEX ON w (w);
        ANALYZE w;
        INSERT INTO users (id, username, name, password_hash, roles, region_id)
        SELECT w.id, w.username, '网格员' || (w.w + 1), %(pw)s, ARRAY['grid_worker'],
               (SELECT vil.id FROM vil WHERE vil.ord = LEAST(w.w * %(k)s, %(villages)s - 1))
          FROM w;
        INSERT INTO grid_assignments (id, grid_id, user_id, assigned_at, assigned_by)
        SELECT gen_random_uuid(), vil.grid_id, w.id, now() - interval '400 days', (SELECT id FROM users WHERE username = 'desk')
          FROM vil JOIN w ON w.w = LEAST(vil.ord / %(k)s, %(workers)s - 1);
        """,
        base | {"pw": password_hash, "workers": sizes.workers, "k": sizes.grids_per_worker, "villages": sizes.villages},
    )

    yield (
        "enterprises",
        f"""
        CREATE FUNCTION pg_temp.uscc(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT body || substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
                   (31 - sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(body, i::int, 1)) - 1) * wt)::int %% 31) %% 31 + 1, 1)
              FROM unnest(ARRAY[1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]) WITH ORDINALITY AS x(wt, i) $$;
        CREATE TEMP TABLE mix (slot int, industry text, subtype text, pattern text);
        INSERT INTO mix VALUES {mix};
        UPDATE vil SET k = %(enterprises)s / %(villages)s + CASE WHEN ord < %(enterprises)s %% %(villages)s THEN 1 ELSE 0 END;
        CREATE TEMP TABLE p AS
            SELECT vil.id AS region_id, vil.grid_id, regexp_replace(vil.name, '(村|社区)$', '') AS short, vil.name AS vname,
                   (ST_Dump(ST_GeneratePoints(vil.geom, vil.k, %(seed)s + vil.ord))).geom AS pt
              FROM vil WHERE vil.k > 0;
        CREATE TEMP TABLE pn AS SELECT row_number() OVER () AS serial, * FROM p;
        ANALYZE pn;
        ANALYZE mix;
        INSERT INTO enterprises (id, name, uscc, industry, subtype, address, risk, location, licences, contact_name,
                                 contact_phone, region_id, grid_id, version, created_at, updated_at)
        SELECT gen_random_uuid(),
               replace(replace(m.pattern, '{{v}}', pn.short), '{{n}}', (1 + pn.serial %% 9)::text),
               pg_temp.uscc('91' || substr(%(district)s, 1, 6) || 'MA' || lpad(pn.serial::text, 7, '0')),
               m.industry, m.subtype,
               %(district_name)s || pn.vname || (1 + pn.serial %% 12) || '组' || (1 + pn.serial %% 97) || '号',
               CASE WHEN (pn.serial * 104729) %% 100 < 5 THEN 'red' WHEN (pn.serial * 104729) %% 100 < 20 THEN 'orange'
                    WHEN (pn.serial * 104729) %% 100 < 60 THEN 'yellow' ELSE 'blue' END,
               pn.pt,
               CASE WHEN m.industry = 'gas' AND m.subtype NOT IN ('operator', 'station') THEN '[]'::jsonb
                    ELSE jsonb_build_array(jsonb_build_object('kind', '安全生产许可证', 'number', '渝' || pn.serial,
                                                              'valid_until', '2028-06-01')) END,
               '联系人' || pn.serial, '138' || lpad(pn.serial::text, 8, '0'),
               pn.region_id, pn.grid_id, 1, now() - interval '500 days', now() - interval '500 days'
          FROM pn JOIN mix m ON m.slot = (pn.serial * 7919) %% {slots};
        """,
        base | {"enterprises": sizes.enterprises, "villages": sizes.villages},
    )

    yield (
        "hazards",
        f"""
        CREATE TEMP TABLE en AS
            SELECT row_number() OVER (ORDER BY e.uscc) - 1 AS n, e.id, e.region_id, e.grid_id, e.location, a.user_id AS worker
              FROM enterprises e LEFT JOIN grid_assignments a ON a.grid_id = e.grid_id AND a.ended_at IS NULL;
        CREATE UNIQUE INDEX ON en (n);
        ANALYZE en;
        CREATE TEMP TABLE hz AS
            SELECT h, (h %% 20) AS bucket, ((h * 31) %% 100 < 4) AS major,
                   (h * 7907) %% (SELECT count(*) FROM en) AS en_n,
                   now() - make_interval(secs => ((h * 2654435761) %% (730 * 86400))::float8) AS found_at
              FROM generate_series(1, %(hazards)s) AS h;
        ANALYZE hz;
        INSERT INTO hazards (id, enterprise_id, inspection_id, item_code, level, description, location, photos, status,
                             source, found_at, found_by, deadline, responsible_person, measures, five, treatment_plan, supervised,
                             supervising_office, submitted_by, submitted_at, rechecked_at, closed_at, closed_by,
                             region_id, grid_id, content_hash, recorded_at, recorded_at_corrected, created_at,
                             updated_at, version)
        SELECT gen_random_uuid(), en.id, NULL, NULL,
               CASE WHEN hz.major THEN 'major' ELSE 'general' END,
               ({hazard_texts})[1 + hz.h %% {len(HAZARD_TEXTS)}] || '（' || hz.h || '）',
               en.location, ARRAY[md5(hz.h::text) || md5('p' || hz.h)],
               s.status, CASE WHEN en.worker IS NULL THEN 'inspection' ELSE 'grid_report' END,
               hz.found_at, COALESCE(en.worker, (SELECT id FROM users WHERE username = 'inspector1')),
               CASE WHEN s.status <> 'reported' THEN hz.found_at + make_interval(days => 7 + (hz.h %% 53)) END,
               CASE WHEN s.status <> 'reported' THEN '负责人' || (hz.h %% 500) END,
               CASE WHEN s.status <> 'reported' THEN '立即整改，限期完成' END,
               CASE WHEN hz.major AND s.status <> 'reported' THEN jsonb_build_object(
                    'responsibility', '企业主要负责人', 'measures', '停产整改', 'funds', '企业自筹',
                    'deadline', '三十日内', 'contingency_plan', '已制定') END,
               CASE WHEN hz.major AND s.status <> 'reported' THEN '停产整改，专家论证后复产' END,
               hz.major AND s.status <> 'closed' AND hz.h %% 3 = 0,
               CASE WHEN hz.major AND s.status <> 'closed' AND hz.h %% 3 = 0 THEN '安全生产委员会办公室' END,
               CASE WHEN s.status IN ('submitted', 'closed') THEN en.worker END,
               CASE WHEN s.status IN ('submitted', 'closed') THEN hz.found_at + make_interval(days => 3 + (hz.h %% 20)) END,
               CASE WHEN s.status = 'closed' THEN hz.found_at + make_interval(days => 5 + (hz.h %% 20)) END,
               CASE WHEN s.status = 'closed' THEN hz.found_at + make_interval(days => 5 + (hz.h %% 20)) END,
               CASE WHEN s.status = 'closed' THEN (SELECT id FROM users WHERE username = 'inspector1') END,
               en.region_id, en.grid_id, md5('h' || hz.h) || md5('c' || hz.h),
               hz.found_at, hz.found_at, hz.found_at,
               CASE s.status WHEN 'closed' THEN hz.found_at + make_interval(days => 5 + (hz.h %% 20))
                             WHEN 'submitted' THEN hz.found_at + make_interval(days => 3 + (hz.h %% 20))
                             ELSE hz.found_at END,
               s.version
          FROM hz
          JOIN en ON en.n = hz.en_n
          JOIN (VALUES (0, 'closed', 4), (1, 'closed', 4), (2, 'closed', 4), (3, 'closed', 4), (4, 'closed', 4),
                       (5, 'closed', 4), (6, 'closed', 4), (7, 'closed', 4), (8, 'closed', 4), (9, 'closed', 4),
                       (10, 'ordered', 2), (11, 'ordered', 2), (12, 'ordered', 2), (13, 'ordered', 2), (14, 'ordered', 2),
                       (15, 'submitted', 3), (16, 'submitted', 3),
                       (17, 'reported', 1), (18, 'reported', 1), (19, 'reported', 1)) AS s(bucket, status, version)
            ON s.bucket = hz.bucket;
        INSERT INTO hazard_events (hazard_id, action, from_status, to_status, version, actor_id, device_id, at,
                                   recorded_at, recorded_at_corrected, location, photos, note, data, change_hash)
        SELECT h.id, s.action, s.from_status, s.to_status, s.v,
               CASE s.v WHEN 3 THEN COALESCE(h.submitted_by, h.found_by) WHEN 1 THEN h.found_by
                        ELSE (SELECT id FROM users WHERE username = 'inspector1') END,
               NULL,
               CASE s.v WHEN 1 THEN h.found_at WHEN 2 THEN h.found_at + interval '2 hours'
                        WHEN 3 THEN h.submitted_at ELSE h.closed_at END,
               NULL, NULL, NULL,
               CASE WHEN s.v IN (1, 3) THEN h.photos ELSE ARRAY[]::text[] END,
               CASE s.v WHEN 3 THEN '已整改完毕' ELSE '' END, '{{}}'::jsonb, NULL
          FROM hazards h
          JOIN (VALUES (1, 'report', NULL, 'reported'), (2, 'order', 'reported', 'ordered'),
                       (3, 'submit', 'ordered', 'submitted'), (4, 'verify', 'submitted', 'closed')) AS s(v, action, from_status, to_status)
            ON s.v <= h.version;
        """,
        base | {"hazards": sizes.hazards},
    )

    yield (
        "tasks",
        """
        INSERT INTO tasks (id, kind, title, assignee_id, target_entity, target_id, enterprise_id, due, period_key, status,
                           note, region_id, grid_id, created_at, updated_at, version)
        SELECT gen_random_uuid(), 'patrol', '巡查：' || e.name, a.user_id, 'enterprise', e.id, e.id,
               date_trunc('month', now()) + interval '1 month' - interval '1 second', to_char(now(), 'YYYY-MM'),
               'open', '', e.region_id, e.grid_id, now(), now(), 1
          FROM enterprises e JOIN grid_assignments a ON a.grid_id = e.grid_id AND a.ended_at IS NULL;
        """,
        None,
    )

    yield (
        "devices and tokens",
        """
        INSERT INTO devices (id, name, platform, app_version, last_user_id, last_seen_at)
        SELECT 'bench-' || username, 'bench', 'android', '1.0.0', id, now() FROM users;
        INSERT INTO access_tokens (token_hash, user_id, device_id, issued_at, expires_at)
        SELECT encode(sha256(convert_to('bench-token-' || username, 'UTF8')), 'hex'), id, 'bench-' || username,
               now(), now() + interval '30 days'
          FROM users;
        """,
        None,
    )
