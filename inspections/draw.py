"""双随机 (random enterprise, random inspectors): the draw as a pure function of a seed and the pools.

Anyone holding the recorded seed and pool snapshot recomputes the same result: pools are sorted by
id before sampling and Python's ``random.Random(str)`` seeds deterministically (SHA-512 of the
string), independent of platform and hash randomisation."""

from __future__ import annotations

import random

from core.errors import ValidationFailed


class DrawImpossible(ValidationFailed):
    code = "plan.draw_impossible"
    title = "无法完成抽取：符合条件的执法人员不足"


def conflicts(inspector: dict, enterprise: dict) -> bool:
    """An inspector may not inspect where they belong (回避): their own town or village node, or a
    grid they work. District-level inspectors belong to the supervising authority, not a place."""
    if enterprise.get("grid_id") and enterprise["grid_id"] in inspector.get("grid_ids", []):
        return True
    if inspector.get("region_level") in ("town", "village"):
        path = enterprise.get("region_path") or ""
        own = inspector["region_path"]
        return path == own or path.startswith(own + ".")
    return False


def compute_draw(
    seed: str, enterprise_pool: list[dict], inspector_pool: list[dict], count: int, team_size: int
) -> list[dict]:
    """Draw ``count`` enterprises, then for each a team of ``team_size`` inspectors without conflicts.

    Pools are lists of dicts with at least ``id`` (strings); the result lists
    ``{"enterprise_id", "inspector_ids"}`` in draw order."""
    rng = random.Random(seed)
    enterprises = sorted(enterprise_pool, key=lambda e: e["id"])
    inspectors = sorted(inspector_pool, key=lambda i: i["id"])
    chosen = rng.sample(enterprises, min(count, len(enterprises)))
    result = []
    for enterprise in chosen:
        eligible = [i for i in inspectors if not conflicts(i, enterprise)]
        if len(eligible) < team_size:
            raise DrawImpossible(
                f"企业 {enterprise['id']} 可回避后的执法人员只有 {len(eligible)} 名，少于 {team_size} 名"
            )
        team = rng.sample(eligible, team_size)
        result.append({"enterprise_id": enterprise["id"], "inspector_ids": sorted(i["id"] for i in team)})
    return result
