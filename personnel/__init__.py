"""人员管理: people administration above accounts and places — create, edit and deactivate accounts with
their role, region, grids and enterprise, temporary passwords, a person's devices, and the roster import
(网格员花名册) that makes many at once."""
