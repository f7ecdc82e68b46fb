"""Health, OpenAPI document and the problem+json shape of errors."""

from api.app import create_app
from config.settings import Settings


def test_health_reports_database_and_postgis_versions(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert "PostgreSQL" in body["database"]
    assert body["postgis"].split(".")[0] == "3"


def test_health_is_503_with_retry_after_when_database_is_down():
    # Nothing listens on port 1: the connection is refused at once.
    settings = Settings.from_env({}, database_url="postgresql://anxun@127.0.0.1:1/none", testing=True)
    client = create_app(settings).test_client()
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "service.unavailable"


def test_openapi_document_lists_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/devices/{device_id}",
        "/api/v1/enterprises",
        "/api/v1/enterprises/{enterprise_id}",
        "/api/v1/grids",
        "/api/v1/grids/{grid_id}",
        "/api/v1/regions/{code}",
    ):
        assert path in paths, path
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert operation.get("summary") or operation.get("description"), f"{method} {path} undocumented"


def test_browsable_docs_page(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()


def test_unknown_path_is_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "not_found" and body["status"] == 404 and body["title"] == "记录不存在"


def test_validation_errors_keep_one_entry_per_field_in_chinese(client, login):
    headers = login("desk")
    response = client.get("/api/v1/enterprises?risk=pink&per_page=0", headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation"
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"risk", "per_page"}
    assert fields["risk"].startswith("必须是以下之一")


def test_nested_validation_error_paths(client):
    response = client.post(
        "/api/v1/auth/login", json={"username": "x", "password": "y", "device": {"name": "n"}, "extra": 1}
    )
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert fields == {"device.id": "缺少必填字段", "extra": "未知字段"}


def test_a_problems_type_is_its_code_under_the_operators_base(settings, session_factory, clock):
    from api.app import create_app

    default = create_app(settings, session_factory=session_factory, clock=clock).test_client()
    assert default.get("/api/v1/no-such-thing").get_json()["type"] == "https://anxun.invalid/problems/not_found"
    chosen = create_app(
        settings.replace(problem_base_url="https://safety.example.gov.cn/problems/"),
        session_factory=session_factory,
        clock=clock,
    ).test_client()
    answer = chosen.get("/api/v1/enterprises").get_json()
    assert answer["type"] == "https://safety.example.gov.cn/problems/" + answer["code"]
    assert answer["code"].startswith("auth.")
