"""Settings read from the environment: paths made absolute once, the hardening limits and their checks."""

import os

import pytest

from config.settings import Settings, SettingsError

URL = "postgresql://anxun@127.0.0.1:5432/anxun"


def test_a_relative_photo_root_is_resolved_against_the_working_directory_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    default = Settings.from_env({"DATABASE_URL": URL})
    given = Settings.from_env({"DATABASE_URL": URL, "ANXUN_PHOTO_ROOT": "store/photos"})
    monkeypatch.chdir("/")
    assert default.photo_root == str(tmp_path / "var" / "photos")
    assert given.photo_root == str(tmp_path / "store" / "photos")
    assert Settings.from_env({"DATABASE_URL": URL, "ANXUN_PHOTO_ROOT": "/srv/photos"}).photo_root == "/srv/photos"
    assert os.path.isabs(default.replace(photo_root="elsewhere").photo_root)


def test_trusted_proxies_are_off_unless_set():
    assert Settings.from_env({"DATABASE_URL": URL}).trusted_proxies == 0
    assert Settings.from_env({"DATABASE_URL": URL, "ANXUN_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    with pytest.raises(SettingsError, match="ANXUN_TRUSTED_PROXIES"):
        Settings.from_env({"DATABASE_URL": URL, "ANXUN_TRUSTED_PROXIES": "-1"})


@pytest.mark.parametrize(
    "name, field, default, minimum",
    [
        ("ANXUN_MAX_DECODE_BYTES", "max_decode_bytes", 512 * 1024 * 1024, 16 * 1024 * 1024),
        ("ANXUN_MAX_GEOMETRY_VERTICES", "max_geometry_vertices", 20_000, 4),
    ],
)
def test_hardening_limits_have_defaults_and_refuse_values_below_their_minimum(name, field, default, minimum):
    assert getattr(Settings.from_env({"DATABASE_URL": URL}), field) == default
    assert getattr(Settings.from_env({"DATABASE_URL": URL, name: str(minimum)}), field) == minimum
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"DATABASE_URL": URL, name: str(minimum - 1)})


def test_problem_types_live_under_a_base_the_operator_sets():
    assert Settings.from_env({"DATABASE_URL": URL}).problem_base_url == "https://anxun.invalid/problems/"
    given = Settings.from_env({"DATABASE_URL": URL, "ANXUN_PROBLEM_BASE_URL": "https://safety.example.gov.cn/errors"})
    assert given.problem_base_url == "https://safety.example.gov.cn/errors/"
    for bad in ("safety.example.gov.cn/errors", "ftp://x/", "https:///nohost/"):
        with pytest.raises(SettingsError, match="ANXUN_PROBLEM_BASE_URL"):
            Settings.from_env({"DATABASE_URL": URL, "ANXUN_PROBLEM_BASE_URL": bad})
