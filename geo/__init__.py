"""The spatial base every package stands on: regions (ltree paths, MultiPolygons) and grid shapes
(models), coordinate systems (coords: GCJ-02 / BD-09 ↔ WGS-84), locations as the API takes them, and
geometry checks. Imports nothing of the domain above it."""
