"""The region and grid endpoints of DESIGN.md §7 are in the OpenAPI document, with their bodies."""


def test_region_and_grid_paths_are_documented(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    expected = {
        "/api/v1/regions/{code}": {"get"},
        "/api/v1/regions/{code}/coverage": {"get"},
        "/api/v1/regions/import": {"post"},
        "/api/v1/grids": {"get", "post"},
        "/api/v1/grids/{grid_id}": {"get", "patch"},
        "/api/v1/grids/{grid_id}/workers": {"get", "put"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert "requestBody" in paths["/api/v1/regions/import"]["post"]
    assert "422" in paths["/api/v1/regions/import"]["post"]["responses"]
    assert "409" in paths["/api/v1/grids/{grid_id}"]["patch"]["responses"]
    crs = next(p for p in paths["/api/v1/regions/import"]["post"]["parameters"] if p["name"] == "crs")
    assert crs["schema"]["enum"] == ["wgs84", "gcj02", "bd09"]
    grid_in = document["components"]["schemas"]["GridIn"]["properties"]
    assert {"villages", "split", "geometry", "crs", "town_code"} <= set(grid_in)
