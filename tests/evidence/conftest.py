"""Who uploads and names photos in these tests."""

import pytest


@pytest.fixture
def uploader(principal_of):
    """gridworker1's Principal: the tests' photos are uploaded by that account, so its naming shows them."""
    return principal_of("gridworker1")


@pytest.fixture
def users(login):
    """``users("desk")`` -> Authorization headers of that demo account, one login per test."""
    cache: dict[str, dict] = {}

    def headers(name: str) -> dict:
        if name not in cache:
            cache[name] = login(name)
        return cache[name]

    return headers
