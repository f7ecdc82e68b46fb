"""The OpenAPI document is exact enough to generate a client from: every operation named and tagged,
sync bodies typed as discriminated unions, geometry as GeoJSON."""

from __future__ import annotations

import re

import pytest

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_unique_camel_case_operation_id_and_a_declared_tag(document):
    declared_tags = {tag["name"] for tag in document["tags"]}
    seen: dict[str, str] = {}
    for name, operation in operations(document):
        operation_id = operation.get("operationId")
        assert operation_id and re.fullmatch(r"[a-z]+([A-Z][a-z0-9]*)*", operation_id), name
        assert operation_id not in seen, f"{name} and {seen.get(operation_id)} share {operation_id}"
        seen[operation_id] = name
        assert operation.get("tags") and set(operation["tags"]) <= declared_tags, name
    assert {"pushChanges", "pullChanges", "transitionHazard", "uploadPhoto"} <= set(seen)


def test_the_document_is_valid_openapi(document):
    from openapi_spec_validator import validate

    validate(document)


def _resolve(document, ref: str) -> dict:
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _branch(document, union: dict, **values) -> dict:
    """Follow a discriminated union (and the unions it maps to) down to the schema for ``values``."""
    while "discriminator" in union:
        union = _resolve(document, union["discriminator"]["mapping"][values[union["discriminator"]["propertyName"]]])
    return union


def test_push_changes_are_a_union_of_one_schema_per_entity_and_op_built_from_the_push_schemas(document):
    from sync.schemas import ENTITY_OPS

    schemas = document["components"]["schemas"]
    body = document["paths"]["/api/v1/sync/push"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    changes = _resolve(document, body["$ref"])["properties"]["changes"]["items"]
    union = _resolve(document, changes["$ref"])
    for (entity, op), data_schema in ENTITY_OPS.items():
        change = _branch(document, union, entity=entity, op=op)
        assert change["properties"]["entity"]["enum"] == [entity] and change["properties"]["op"]["enum"] == [op]
        data = _resolve(document, change["properties"]["data"]["$ref"])
        assert set(data["properties"]) == set(data_schema().fields), (entity, op)
        assert set(data.get("required", [])) == {n for n, f in data_schema().fields.items() if f.required}
    assert len({s for s in schemas if s.endswith("Change")}) >= len(ENTITY_OPS)


def test_push_results_and_pull_changes_are_typed(document):
    from sync.schemas import PULLED

    push_out = _resolve(
        document,
        document["paths"]["/api/v1/sync/push"]["post"]["responses"]["200"]["content"]["application/json"]["schema"][
            "$ref"
        ],
    )
    results = _resolve(document, push_out["properties"]["results"]["items"]["$ref"])
    assert set(results["discriminator"]["mapping"]) == {"applied", "duplicate", "conflict", "rejected"}
    rejected = _branch(document, results, status="rejected")
    assert {"retryable", "code", "errors"} <= set(rejected["required"])
    assert "current" in _branch(document, results, status="conflict")["properties"]

    pull_out = _resolve(
        document,
        document["paths"]["/api/v1/sync/pull"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
            "$ref"
        ],
    )
    changes = _resolve(document, pull_out["properties"]["changes"]["items"]["$ref"])
    for entity, schema in PULLED.items():
        upsert = _branch(document, changes, op="upsert", entity=entity)
        assert upsert["properties"]["data"]["$ref"].endswith("/" + schema.__name__)
        delete = _branch(document, changes, op="delete", entity=entity)
        assert entity in delete["properties"]["entity"]["enum"] and "data" not in delete["properties"]


def test_geometry_is_geojson_wherever_it_appears(document):
    schemas = document["components"]["schemas"]
    assert {"Point", "LineString", "Polygon", "MultiPolygon", "Feature", "FeatureCollection"} <= set(schemas)
    untyped = []
    for name, schema in schemas.items():
        for prop, spec in schema.get("properties", {}).items():
            typed = {"oneOf", "anyOf", "allOf", "$ref"} & set(spec)
            if prop in {"geometry", "blade", "gaps", "overlaps"} and not typed:
                untyped.append(f"{name}.{prop}")
    assert not untyped
    grid_in = schemas["GridIn"]["properties"]["geometry"]["oneOf"]
    assert grid_in == [{"$ref": "#/components/schemas/Polygon"}, {"$ref": "#/components/schemas/MultiPolygon"}]
    risk_map = document["paths"]["/api/v1/reports/riskmap.geojson"]["get"]["responses"]["200"]["content"]
    assert risk_map["application/geo+json"]["schema"] == {"$ref": "#/components/schemas/FeatureCollection"}


def _problem(document, response) -> dict:
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response.get("content", {}).get("application/problem+json", {})


def test_every_error_answer_is_problem_json_with_code_and_errors(document):
    problem = document["components"]["schemas"]["ProblemOut"]["properties"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem)
    errors = _resolve(document, problem["errors"]["items"]["$ref"])["properties"]
    assert {"code", "field", "message"} <= set(errors)
    missing = []
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if (status == "default" or int(status) >= 400) and not name.startswith("HEAD"):
                content = _problem(document, response)
                if content.get("schema") != {"$ref": "#/components/schemas/ProblemOut"}:
                    missing.append(f"{name} {status}")
    assert not missing


def test_operations_list_the_codes_they_may_answer(document):
    for name, operation in operations(document):
        statuses = set(operation["responses"])
        if operation.get("security") != []:
            assert "401" in statuses, name
        if "{" in name:
            assert "404" in statuses, name
    expected = {
        "POST /api/v1/sync/push": {"400", "401", "413", "422"},
        "GET /api/v1/sync/pull": {"401", "422"},
        "GET /api/v1/sync/config": {"401"},
        "GET /api/v1/hazards": {"401", "422"},
        "POST /api/v1/hazards": {"401", "409", "422"},
        "GET /api/v1/hazards/{hazard_id}": {"401", "404"},
        "POST /api/v1/hazards/{hazard_id}/transitions": {"401", "404", "409", "422"},
    }
    listed = dict(operations(document))
    for name, statuses in expected.items():
        assert statuses <= set(listed[name]["responses"]), name
