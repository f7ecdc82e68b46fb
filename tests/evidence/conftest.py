"""Who names photos in these tests: the demo grid worker who uploads them."""
import pytest


@pytest.fixture
def uploader(principal_of):
    """gridworker1's Principal: the tests' photos are uploaded by that account, so its naming shows them."""
    return principal_of("gridworker1")
