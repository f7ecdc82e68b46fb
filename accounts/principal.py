"""The authenticated caller and what they may see.

A ``Principal`` is built once per request (or per sync batch) from the token. Its
scope is expressed as SQL conditions — one mechanism, used by every query — so the
database filters rows and nothing outside the scope is ever loaded:

- admin: everything;
- desk officer / inspector: the subtree of their region node (ltree ``<@``);
- grid worker: the grids assigned to them (open assignments) and what lies in them;
- enterprise officer: their own enterprise.

A user with several roles sees the union.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from geo.models import Grid, GridAssignment, GridVillage, Region


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    username: str
    name: str
    roles: frozenset[str]
    region_id: uuid.UUID
    region_code: str
    region_path: str
    device_id: str | None = None
    enterprise_id: uuid.UUID | None = None
    enforcement_cert_no: str | None = None
    # Signed in with a temporary password: the token may only change it (api.auth).
    must_change_password: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def sees_region_subtree(self) -> bool:
        return self.has("desk_officer", "inspector")

    # --- scope conditions -------------------------------------------------

    def region_filter(self, region_path_column) -> ColumnElement[bool]:
        """Rows whose region path lies in the caller's subtree (only for officers/inspectors)."""
        if self.is_admin:
            return true()
        if self.sees_region_subtree:
            return region_path_column.descendant_of(self.region_path)
        return false()

    def assigned_grid_ids(self):
        return select(GridAssignment.grid_id).where(
            GridAssignment.user_id == self.user_id, GridAssignment.ended_at.is_(None)
        )

    def grid_filter(self, grid) -> ColumnElement[bool]:
        if self.is_admin:
            return true()
        parts = []
        if self.sees_region_subtree:
            region = _region_alias()
            parts.append(exists().where(region.id == grid.town_id, region.path.descendant_of(self.region_path)))
        if "grid_worker" in self.roles:
            parts.append(grid.id.in_(self.assigned_grid_ids()))
        return or_(*parts) if parts else false()

    def area_filter(self, *, region_id, grid_id, enterprise_id=None) -> ColumnElement[bool]:
        """Rows placed in the world by a village (``region_id``), a grid and maybe an enterprise:
        enterprises themselves, hazards, inspections, patrols all use this one rule."""
        if self.is_admin:
            return true()
        parts = []
        if self.sees_region_subtree:
            region = _region_alias()
            parts.append(exists().where(region.id == region_id, region.path.descendant_of(self.region_path)))
        if "grid_worker" in self.roles:
            parts.append(grid_id.in_(self.assigned_grid_ids()))
        if "enterprise_officer" in self.roles and self.enterprise_id is not None and enterprise_id is not None:
            parts.append(enterprise_id == self.enterprise_id)
        return or_(*parts) if parts else false()

    def enterprise_filter(self, enterprise) -> ColumnElement[bool]:
        return self.area_filter(region_id=enterprise.region_id, grid_id=enterprise.grid_id, enterprise_id=enterprise.id)

    def region_visible_filter(self, region) -> ColumnElement[bool]:
        """Regions a caller may read: officers their subtree and its ancestors' names are not
        needed; grid workers the villages of their grids and those villages' towns."""
        if self.is_admin:
            return true()
        parts = []
        if self.sees_region_subtree:
            parts.append(region.path.descendant_of(self.region_path))
        if "grid_worker" in self.roles:
            mine = self.assigned_grid_ids()
            parts.append(region.id.in_(select(GridVillage.village_id).where(GridVillage.grid_id.in_(mine))))
            parts.append(region.id.in_(select(Grid.town_id).where(Grid.id.in_(mine))))
        return or_(*parts) if parts else false()


def _region_alias():
    """A fresh alias, so the EXISTS never correlates away a Region the outer query also joins."""
    from sqlalchemy.orm import aliased

    return aliased(Region)


def principal_for(user, region_code: str, region_path: str, device_id: str | None) -> Principal:
    """``user``: a User, or a row with its columns (the token lookup loads no ORM object)."""
    return Principal(
        user_id=user.id,
        username=user.username,
        name=user.name,
        roles=frozenset(user.roles),
        region_id=user.region_id,
        region_code=region_code,
        region_path=region_path,
        device_id=device_id,
        enterprise_id=user.enterprise_id,
        enforcement_cert_no=user.enforcement_cert_no,
        must_change_password=user.must_change_password,
    )


def command_line_principal() -> Principal:
    """Whoever runs ``flask anxun …`` on the server: an administrator no account stands for (the audit
    log records no actor and says ``via: cli``)."""
    return Principal(
        user_id=None,
        username="(command line)",
        name="命令行",
        roles=frozenset({"admin"}),
        region_id=None,
        region_code="",
        region_path="",
        extra={"via": "cli"},
    )
