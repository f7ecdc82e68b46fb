"""网格化管理: regions and grids as the desk reads, draws and staffs them — scoped reads, drawing, merging,
splitting and retiring grids, assigning grid workers, coverage reports, village boundary import, and
the /regions and /grids routes."""
