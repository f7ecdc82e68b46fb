"""The authenticated caller and what they may see.

A ``Principal`` is built once per request (or per sync batch) from the token. Its
scope is expressed as SQL conditions — one mechanism, used by every query — so the
database filters rows and nothing outside the scope is ever loaded:

- admin: everything;
- desk officer / inspector: the subtree of their region node (ltree ``<@``);
- grid worker: the grids assigned to them (open assignments) and what lies in them;
- enterprise officer: their own enterprise.

A user with several roles sees the union.

The caller's own values (user, region path, enterprise) enter those conditions as named bind
parameters, so a statement's SQL depends only on the caller's *shape* (roles, has an enterprise):
``scoped_statement`` builds a hot read once per shape and runs it with each caller's ``scope_params``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Callable

from sqlalchemy import ColumnElement, Executable, bindparam, exists, false, or_, select, true

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
    # A stand-in for every caller of one shape (scoped_statement): its conditions carry no values.
    is_template: bool = field(default=False, compare=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def sees_region_subtree(self) -> bool:
        return self.has("desk_officer", "inspector")

    # --- scope conditions -------------------------------------------------

    @property
    def shape(self) -> tuple:
        """What a scope condition's SQL depends on: two callers of one shape differ only in values."""
        return (self.roles, self.enterprise_id is not None)

    def scope_params(self) -> dict:
        """The values of the scope's bind parameters, for a statement from ``scoped_statement``."""
        return {
            "scope_user_id": self.user_id,
            "scope_region_path": self.region_path,
            "scope_enterprise_id": self.enterprise_id,
        }

    def _value(self, key: str, value):
        # A template's parameters are required: a cached statement run without scope_params fails
        # instead of running with someone else's values.
        return bindparam(key, required=True) if self.is_template else bindparam(key, value)

    @property
    def _region_path(self):
        return self._value("scope_region_path", self.region_path)

    def region_filter(self, region_path_column) -> ColumnElement[bool]:
        """Rows whose region path lies in the caller's subtree (only for officers/inspectors)."""
        if self.is_admin:
            return true()
        if self.sees_region_subtree:
            return region_path_column.descendant_of(self._region_path)
        return false()

    def assigned_grid_ids(self):
        return select(GridAssignment.grid_id).where(
            GridAssignment.user_id == self._value("scope_user_id", self.user_id), GridAssignment.ended_at.is_(None)
        )

    def grid_filter(self, grid) -> ColumnElement[bool]:
        if self.is_admin:
            return true()
        parts = []
        if self.sees_region_subtree:
            region = _region_alias()
            parts.append(exists().where(region.id == grid.town_id, region.path.descendant_of(self._region_path)))
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
            parts.append(exists().where(region.id == region_id, region.path.descendant_of(self._region_path)))
        if "grid_worker" in self.roles:
            parts.append(grid_id.in_(self.assigned_grid_ids()))
        if "enterprise_officer" in self.roles and self.enterprise_id is not None and enterprise_id is not None:
            parts.append(enterprise_id == self._value("scope_enterprise_id", self.enterprise_id))
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
            parts.append(region.path.descendant_of(self._region_path))
        if "grid_worker" in self.roles:
            mine = self.assigned_grid_ids()
            parts.append(region.id.in_(select(GridVillage.village_id).where(GridVillage.grid_id.in_(mine))))
            parts.append(region.id.in_(select(Grid.town_id).where(Grid.id.in_(mine))))
        return or_(*parts) if parts else false()


_SCOPED_STATEMENTS: dict[tuple, Executable] = {}


def scoped_statement(name: str, principal: Principal, build: Callable[[Principal], Executable]) -> Executable:
    """The statement ``build`` makes for callers of ``principal``'s shape, built once per shape: building
    a statement and its cache key costs several times its round trip on a hot read. Run it with
    ``principal.scope_params()`` (and its own parameters). ``build`` may use the principal's scope
    conditions only — not its values, which a template does not have."""
    key = (name, principal.shape)
    statement = _SCOPED_STATEMENTS.get(key)
    if statement is None:
        template = replace(principal, user_id=None, region_path=None, is_template=True)
        statement = _SCOPED_STATEMENTS[key] = build(template)
    return statement


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
