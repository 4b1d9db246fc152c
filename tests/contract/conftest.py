"""Contract tests: one scenario, one expectation, run against every side that serves Conduit."""

from __future__ import annotations

import httpx
import pytest

from tests.conduit import Account, Api
from tests.gateways import LEGACY_PROCESSES

# The suite's pass for the legacy process mode changes only how legacy is served: v2's side
# of each scenario would run again unchanged.
SIDES = ["/legacy"] if LEGACY_PROCESSES else ["/legacy", "/v2"]


@pytest.fixture(params=SIDES)
def api(request: pytest.FixtureRequest, client: httpx.Client) -> Api:
    return Api(http=client, prefix=f"{request.param}/api")


@pytest.fixture
def alice(api: Api) -> Account:
    return api.register("alice")


@pytest.fixture
def bob(api: Api) -> Account:
    return api.register("bob")
