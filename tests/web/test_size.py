"""The field app's shell stays within its budget (issue 18: ≤ 250 KB of JS+CSS, gzip, on first load).
A size, not a time: measured from the built files (bench/web_size.py)."""

from __future__ import annotations

from bench.web_size import SHELL_BUDGET_BYTES, report


def test_the_app_shell_is_within_its_gzip_budget(built_web):
    result = report("app")
    assert any(name.endswith(".js") for name in result["shell"]) and any(
        name.endswith(".css") for name in result["shell"]
    )
    assert result["shell_gzip_bytes"] <= SHELL_BUDGET_BYTES, result
