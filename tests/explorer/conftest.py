"""The explorer of the tiny run (uploads up to UPLOAD_LIMIT bytes, short matches) and its server on 127.0.0.1,
one per test module."""

import pytest

from explorer import Explorer, ExplorerConfig, ServerThread, create_app
from tests.explorer.helpers import UPLOAD_LIMIT


@pytest.fixture(scope="module")
def explorer(tiny_run):
    return Explorer.open(tiny_run, ExplorerConfig(upload_limit_bytes=UPLOAD_LIMIT, match_budget_s=4.0, match_starts=4,
                                                  max_pending=6), progress=False)


@pytest.fixture(scope="module")
def url(explorer):
    with ServerThread(create_app(explorer)) as server:
        yield server.url
