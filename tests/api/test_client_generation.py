"""A client generated from the OpenAPI document (openapi-typescript) type-checks a phone's push and pull
(tests/client-gen/check.ts, under tsc --strict), and a wrongly typed change does not."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT_GEN = Path(__file__).resolve().parents[1] / "client-gen"
BIN = CLIENT_GEN / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def toolchain():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the generated TypeScript client is not checked")
    # npm ci installs exactly the committed package-lock.json (openapi-typescript, typescript).
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=CLIENT_GEN,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return BIN


def _generate(toolchain, document: dict, out: Path) -> None:
    (out / "openapi.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    # Defaults make no field required: a phone may leave out what the server defaults.
    subprocess.run(
        [
            toolchain / "openapi-typescript",
            out / "openapi.json",
            "-o",
            out / "api.d.ts",
            "--default-non-nullable",
            "false",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    shutil.copy(CLIENT_GEN / "check.ts", out)
    shutil.copy(CLIENT_GEN / "tsconfig.json", out)


def _tsc(toolchain, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([toolchain / "tsc", "-p", out / "tsconfig.json"], capture_output=True, text=True, timeout=300)


def test_the_generated_client_type_checks_a_push_and_a_pull(client, toolchain, tmp_path):
    _generate(toolchain, client.get("/api/v1/openapi.json").get_json(), tmp_path)
    checked = _tsc(toolchain, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_wrongly_typed_change_fails_the_check(client, toolchain, tmp_path):
    _generate(toolchain, client.get("/api/v1/openapi.json").get_json(), tmp_path)
    source = (tmp_path / "check.ts").read_text(encoding="utf-8")
    line = "// @ts-expect-error a hazard has no such action\n"
    assert line in source
    (tmp_path / "check.ts").write_text(source.replace(line, ""), encoding="utf-8")
    checked = _tsc(toolchain, tmp_path)
    assert checked.returncode != 0
    assert "error TS2322" in checked.stdout and '"explode"' in checked.stdout, checked.stdout
