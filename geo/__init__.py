"""Regions, grids and locations: PostGIS queries, coordinate systems, geofence, boundary import."""
