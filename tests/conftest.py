import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The local data mirror of this work area (shared/data beside the checkout); tests needing it skip without it.
SHARED_DATA = Path(os.environ.get("ISOMETRY_DATA_MIRROR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def shared_data():
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"no local data mirror at {SHARED_DATA} (set ISOMETRY_DATA_MIRROR)")
    return SHARED_DATA
