"""The demo district: generated boundaries, grids, enterprises and accounts for trying AnXun."""
