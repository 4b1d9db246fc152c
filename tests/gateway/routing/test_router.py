"""The manifest moves legacy traffic: states legacy, v2 and canary through real requests."""

from __future__ import annotations

import math
import ssl
from collections.abc import Iterator

import httpx
import pytest

from gateway.records.store import RecordStore
from gateway.routing.canary import canary_bucket, in_canary
from shared.db import Database
from shared.settings import Settings
from shared.tokens import TokenCore
from tests.conduit import Api
from tests.gateways import conduit_gateway
from tests.inprocess import in_process
from tests.serving import running_server

# What it tests does not depend on the database: the SQLite pass runs it.
pytestmark = pytest.mark.any_database

MANIFEST = """\
[[module]]
name = "users"
paths = ["/api/users", "/api/users/login", "/api/user"]
state = "v2"

[[module]]
name = "tags"
paths = ["/api/tags"]
state = "canary"
canary_percent = 30

[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
state = "legacy"

[[module]]
name = "profiles"
paths = ["/api/profiles/**"]
state = "shadow"
shadow_sample_rate = 0.001
deprecated = 2026-11-01
sunset = 2027-06-30
"""


@pytest.fixture(scope="module")
def migrating_url(settings: Settings, database: Database, records: RecordStore) -> Iterator[str]:
    app = conduit_gateway(settings, database, records, manifest=MANIFEST)
    with running_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def migrating(
    settings: Settings, database: Database, records: RecordStore
) -> Iterator[httpx.Client]:
    """The same gateway in-process, for the tests whose subject is not the socket."""
    with in_process(conduit_gateway(settings, database, records, manifest=MANIFEST)) as client:
        yield client


@pytest.fixture
def http(migrating_url: str, database: Database) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=migrating_url, timeout=30) as client:
        yield client


def test_every_answer_names_who_served_it(client: httpx.Client) -> None:
    # The suite's default gateway runs the shipped manifest: everything in state legacy.
    assert client.get("/legacy/api/tags").headers["x-served-by"] == "legacy"
    assert client.get("/legacy/api/nope").headers["x-served-by"] == "legacy"
    assert client.get("/v2/api/tags").headers["x-served-by"] == "v2"
    assert client.get("/health").headers["x-served-by"] == "gateway"


def test_a_module_in_state_v2_is_answered_by_v2_on_its_legacy_path(http: httpx.Client) -> None:
    account = Api(http=http, prefix="/legacy/api").register("moved")
    bearer = {"Authorization": f"Bearer {account.token}"}

    # Only v2 accepts Bearer: a 200 on the legacy path proves which code answered.
    me = http.get("/legacy/api/user", headers=bearer)

    assert me.status_code == 200
    assert me.headers["x-served-by"] == "v2"
    assert me.json()["user"]["username"] == "moved"
    assert str(me.url).endswith("/legacy/api/user")  # the client's URL is unchanged


def test_a_module_in_state_legacy_is_untouched(http: httpx.Client) -> None:
    account = Api(http=http, prefix="/v2/api").register("stays")

    listed = http.get("/legacy/api/articles", headers={"Authorization": f"Bearer {account.token}"})

    assert listed.status_code == 401  # legacy's own rule: Token only
    assert listed.headers["x-served-by"] == "legacy"


# The tags module's share in MANIFEST.
CANARY_PERCENT = 30


def _assert_binomial_share(on_v2: int, total: int, percent: int) -> None:
    """``on_v2`` of ``total`` independent keys is within 4 sd of ``percent`` %."""
    p = percent / 100
    tolerance = 4 * math.sqrt(p * (1 - p) / total)
    share = on_v2 / total
    assert abs(share - p) <= tolerance, f"{share:.3f} on v2; {percent} % +- {tolerance:.3f}"


def _expected_side(key: str, percent: int = CANARY_PERCENT) -> str:
    return "v2" if in_canary("tags", key, percent) else "legacy"


def _side(response: httpx.Response) -> str:
    assert response.status_code == 200
    side: str = response.headers["x-served-by"]
    return side


def _sides_by_subject(http: httpx.Client, settings: Settings, user_ids: range) -> dict[int, str]:
    """Who answered /legacy/api/tags for each user, signed in with a token of their own."""
    tokens = TokenCore(settings.jwt)
    return {
        user_id: _side(
            http.get(
                "/legacy/api/tags",
                headers={"Authorization": f"Token {tokens.issue(user_id)}"},
            )
        )
        for user_id in user_ids
    }


def test_canary_sends_each_user_where_their_bucket_says(
    migrating: httpx.Client, settings: Settings
) -> None:
    sides = _sides_by_subject(migrating, settings, range(1, 1001))

    # The shipped sticky strategy is bearer-sub: a user's key is their token's subject.
    misrouted = {u: side for u, side in sides.items() if side != _expected_side(f"sub:{u}")}
    assert not misrouted
    _assert_binomial_share(list(sides.values()).count("v2"), len(sides), CANARY_PERCENT)


def test_canary_users_stay_on_their_side_across_requests(
    migrating_url: str, settings: Settings
) -> None:
    # Three passes over the same users, each on a connection of its own.
    passes = []
    for _ in range(3):
        with httpx.Client(base_url=migrating_url, timeout=30) as http:
            passes.append(_sides_by_subject(http, settings, range(1, 301)))

    assert set(passes[0].values()) == {"legacy", "v2"}
    assert passes[1] == passes[0]
    assert passes[2] == passes[0]


def test_anonymous_canary_requests_stick_to_the_client_address(migrating_url: str) -> None:
    # Distinct clients, each from a loopback address of its own (all of 127/8 is local).
    addresses = [f"127.0.{n // 250 + 1}.{n % 250 + 1}" for n in range(500)]
    tls = ssl.create_default_context()  # one for all: building one per client is slow

    def sides() -> dict[str, str]:
        found = {}
        for address in addresses:
            transport = httpx.HTTPTransport(local_address=address, verify=tls)
            with httpx.Client(base_url=migrating_url, transport=transport, timeout=30) as http:
                found[address] = _side(http.get("/legacy/api/tags"))
        return found

    first, again = sides(), sides()

    misrouted = {a: side for a, side in first.items() if side != _expected_side(f"addr:{a}")}
    assert not misrouted
    assert again == first
    assert set(first.values()) == {"legacy", "v2"}


def test_raising_the_percent_only_moves_users_from_legacy_to_v2(
    migrating: httpx.Client, settings: Settings, database: Database, records: RecordStore
) -> None:
    users = range(1, 601)
    before = _sides_by_subject(migrating, settings, users)
    raised = MANIFEST.replace(f"canary_percent = {CANARY_PERCENT}", "canary_percent = 60")
    assert raised != MANIFEST
    app = conduit_gateway(settings, database, records, manifest=raised)
    with in_process(app) as http:
        after = _sides_by_subject(http, settings, users)

    moved_back = {u for u in users if (before[u], after[u]) == ("v2", "legacy")}
    moved_on = {u for u in users if (before[u], after[u]) == ("legacy", "v2")}
    assert not moved_back
    assert moved_on
    _assert_binomial_share(list(after.values()).count("v2"), len(after), 60)


def test_canary_percents_nest() -> None:
    keys = [f"sub:{n}" for n in range(10_000)]
    on_v2 = {
        percent: {key for key in keys if in_canary("tags", key, percent)} for percent in range(101)
    }

    assert on_v2[0] == set()
    assert on_v2[100] == set(keys)
    for percent in range(100):
        assert on_v2[percent] <= on_v2[percent + 1], percent  # nobody goes back to legacy
        assert len(on_v2[percent]) < len(on_v2[percent + 1]), percent  # a step moves some


@pytest.mark.parametrize("percent", [1, 30, 75])
def test_canary_buckets_spread_evenly(percent: int) -> None:
    keys = [f"user:{n}" for n in range(20_000)]

    on_v2 = sum(canary_bucket("tags", key) < percent * 100 for key in keys)

    _assert_binomial_share(on_v2, len(keys), percent)


def test_announced_successors_are_named_in_legacy_answers(http: httpx.Client) -> None:
    response = http.get("/legacy/api/profiles/nobody")

    assert response.status_code == 404
    assert response.headers["x-served-by"] == "legacy"
    assert response.headers["deprecation"] == "@1793491200"  # 2026-11-01T00:00:00Z
    assert response.headers["sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert response.headers["link"] == '</v2/api/profiles/nobody>; rel="successor-version"'


def test_without_an_announcement_legacy_answers_carry_no_deprecation(http: httpx.Client) -> None:
    response = http.get("/legacy/api/articles")

    assert response.status_code == 200
    assert {"deprecation", "sunset", "link"}.isdisjoint(response.headers)


def test_head_and_options_on_a_moved_module_answer_as_legacy_did(http: httpx.Client) -> None:
    account = Api(http=http, prefix="/legacy/api").register("header")
    token = {"Authorization": f"Token {account.token}"}

    head = http.head("/legacy/api/user", headers=token)
    options = http.options("/legacy/api/user")

    assert (head.status_code, head.headers["x-served-by"], head.content) == (200, "v2", b"")
    assert int(head.headers["content-length"]) > 0
    assert options.status_code == 200
    assert set(options.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PUT"}
