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
