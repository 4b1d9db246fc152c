"""The gateway on apps it has never heard of: v2 paths of another shape, each sticky strategy,
a v2 APIRouter, a plain WSGI app, and OpenAPI for views that document nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import jwt
import pytest
from fastapi import APIRouter, FastAPI
from flask import Flask, jsonify
from sqlalchemy import delete, select
from starlette.requests import HTTPConnection

from gateway.app import create_app
from gateway.config.configuration import configure
from gateway.config.manifest import parse_manifest
from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from gateway.routing.canary import canary_bucket
from tests.serving import running_server
from tests.waiting import wait_until

STICKY_KEY = "a-sticky-verification-key-of-32-bytes!"


def legacy_app() -> Flask:
    app = Flask("shop")

    @app.get("/tags")
    def tags() -> Any:
        return jsonify(tags=["a", "b"])

    @app.get("/tags/<int:tag_id>")
    def tag(tag_id: int) -> Any:
        """One tag."""
        return jsonify(id=tag_id, name=f"tag {tag_id}")

    @app.route("/basket/<name>", methods=["GET", "PUT"])
    def basket(name: str) -> Any:
        return jsonify(basket=name)

    return app


def v2_app() -> FastAPI:
    app = FastAPI()

    @app.get("/tags")
    async def tags() -> dict[str, Any]:
        return {"tags": ["a", "b"]}

    @app.get("/labels/{label_id}")
    async def label(label_id: int) -> dict[str, Any]:
        return {"id": label_id, "name": f"tag {label_id}"}

    @app.put("/basket/{name}")
    async def basket(name: str) -> dict[str, Any]:
        return {"basket": name}

    return app


MODULES = """
[[module]]
name = "tags"
paths = ["/tags", "/tags/*"]
state = "{state}"
{extra}

[module.v2_paths]
"/tags/*" = "/labels/{{1}}"
"""


@contextmanager
def gateway(
    records: RecordStore, state: str, extra: str = "", v2: Any = None, **options: Any
) -> Iterator[httpx.Client]:
    manifest = parse_manifest(MODULES.format(state=state, extra=extra), source="shop.toml")
    config = configure(manifest, flags={"v2": "shop:v2", **options}, environ={})
    app = create_app(
        config, legacy=legacy_app(), v2=v2 if v2 is not None else v2_app(), store=records
    )
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def test_a_module_in_state_v2_reaches_v2_paths_of_another_shape(records: RecordStore) -> None:
    with gateway(records, "v2") as http:
        one = http.get("/legacy/tags/7")
        listing = http.get("/legacy/tags")

    assert (one.status_code, one.headers["x-served-by"]) == (200, "v2")
    assert one.json() == {"id": 7, "name": "tag 7"}  # answered by v2's /labels/{id}
    assert (listing.headers["x-served-by"], listing.json()) == ("v2", {"tags": ["a", "b"]})


def test_shadow_replays_to_the_mapped_path_and_links_the_successor(records: RecordStore) -> None:
    extra = "shadow_sample_rate = 1.0\ndeprecated = 2026-11-01"
    try:
        with gateway(records, "shadow", extra) as http:
            response = http.get("/legacy/tags/3")

            def stored() -> list[ShadowComparison]:
                with records.session() as session:
                    return list(session.scalars(select(ShadowComparison)))

            rows = wait_until(stored, timeout=10, message="the shadow comparison to be stored")
    finally:
        with records.session() as session, session.begin():
            session.execute(delete(ShadowComparison))

    assert response.headers["x-served-by"] == "legacy"
    assert response.headers["link"] == '</v2/labels/3>; rel="successor-version"'
    (record,) = rows
    assert (record.module, record.outcome, record.v2_status) == ("tags", "matched", 200)


def _side(http: httpx.Client, **kwargs: Any) -> str:
    response = http.get("/legacy/tags", **kwargs)
    assert response.status_code == 200
    side: str = response.headers["x-served-by"]
    return side


def _keys_on_each_side(prefix: str, make: Any) -> tuple[str, str]:
    """A value that lands in v2 and one that stays legacy, at canary_percent = 50."""
    values = [f"{prefix}{n}" for n in range(200)]
    to_v2 = next(v for v in values if canary_bucket("tags", make(v)) < 5000)
    stays = next(v for v in values if canary_bucket("tags", make(v)) >= 5000)
    return to_v2, stays


CANARY = "canary_percent = 50"


def test_sticky_by_header(records: RecordStore) -> None:
    to_v2, stays = _keys_on_each_side("team-", lambda v: f"header:x-team:{v}")
    with gateway(records, "canary", CANARY, sticky="header:X-Team") as http:
        sides = [_side(http, headers={"X-Team": v}) for v in (to_v2, stays, to_v2)]

    assert sides == ["v2", "legacy", "v2"]


def test_sticky_by_cookie(records: RecordStore) -> None:
    to_v2, stays = _keys_on_each_side("s", lambda v: f"cookie:sid:{v}")
    with gateway(records, "canary", CANARY, sticky="cookie:sid") as http:
        sides = [_side(http, headers={"Cookie": f"sid={v}"}) for v in (to_v2, stays)]

    assert sides == ["v2", "legacy"]


def _token(sub: str, key: str = STICKY_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode({'sub': sub}, key, algorithm='HS256')}"}


def test_sticky_by_verified_bearer_subject(records: RecordStore) -> None:
    to_v2, stays = _keys_on_each_side("user", lambda v: f"sub:{v}")
    address = "addr:127.0.0.1"
    with gateway(records, "canary", CANARY, sticky="bearer-sub", sticky_jwt_key=STICKY_KEY) as http:
        verified = [_side(http, headers=_token(v)) for v in (to_v2, stays)]
        # A token signed with another key is bucketed like an anonymous client.
        forged = _side(http, headers=_token(to_v2, key="another-key-of-at-least-32-bytes!!"))

    assert verified == ["v2", "legacy"]
    assert forged == ("v2" if canary_bucket("tags", address) < 5000 else "legacy")


def test_sticky_by_unverified_bearer_subject(records: RecordStore) -> None:
    to_v2, stays = _keys_on_each_side("user", lambda v: f"sub:{v}")
    with gateway(records, "canary", CANARY, sticky="bearer-sub") as http:
        sides = [
            _side(http, headers=_token(v, key="any-key-at-all-32-bytes-long!!!!"))
            for v in (to_v2, stays)
        ]

    assert sides == ["v2", "legacy"]


def team_key(connection: HTTPConnection) -> str | None:
    return connection.query_params.get("team")


def test_sticky_by_a_function_of_the_request(records: RecordStore) -> None:
    to_v2, stays = _keys_on_each_side("t", lambda v: f"fn:{v}")
    with gateway(records, "canary", CANARY, sticky=f"{__name__}:team_key") as http:
        sides = [_side(http, params={"team": v}) for v in (to_v2, stays)]

    assert sides == ["v2", "legacy"]


def test_a_v2_router_is_included_under_the_v2_prefix(records: RecordStore) -> None:
    router = APIRouter()

    @router.get("/tags")
    async def tags() -> list[str]:
        return []

    @router.get("/labels/{label_id}")
    async def label(label_id: int) -> dict[str, int]:
        return {"id": label_id}

    with gateway(records, "v2", v2=router) as http:
        moved = http.get("/legacy/tags/5")
        direct = http.get("/v2/labels/6")
        spec = http.get("/openapi.json").json()

    assert (moved.json(), moved.headers["x-served-by"]) == ({"id": 5}, "v2")
    assert direct.json() == {"id": 6}
    assert "/v2/labels/{label_id}" in spec["paths"]


def test_undocumented_views_are_still_listed_with_methods_and_parameters(
    records: RecordStore,
) -> None:
    with gateway(records, "legacy") as http:
        spec = http.get("/openapi.json").json()

    one = spec["paths"]["/legacy/tags/{tag_id}"]["get"]
    basket = spec["paths"]["/legacy/basket/{name}"]
    assert one["summary"] == "One tag."
    assert one["parameters"] == [
        {"in": "path", "name": "tag_id", "required": True, "schema": {"type": "integer"}}
    ]
    assert set(basket) == {"get", "put"}
    assert basket["get"]["operationId"] != basket["put"]["operationId"]
    assert "/v2/labels/{label_id}" in spec["paths"]


def _plain_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode()]


def test_a_wsgi_app_that_is_not_flask_is_served(records: RecordStore) -> None:
    config = configure(parse_manifest("[gateway]\n", source="plain.toml"), environ={})
    app = create_app(config, legacy=_plain_wsgi, store=records)
    with running_server(app) as url:
        answer = httpx.get(f"{url}/legacy/any/path")
        spec = httpx.get(f"{url}/openapi.json").json()

    assert (answer.status_code, answer.text) == (200, "/any/path")
    assert not any(path.startswith("/legacy") for path in spec["paths"])


@pytest.mark.parametrize("state", ["legacy", "v2"])
def test_a_put_reaches_whichever_side_serves_the_module(records: RecordStore, state: str) -> None:
    manifest = parse_manifest(
        f'[[module]]\nname = "basket"\npaths = ["/basket/*"]\nstate = "{state}"\n'
        'keep_on_legacy = ["GET /basket/*"]\n',
        source="shop.toml",
    )
    config = configure(manifest, flags={"v2": "shop:v2"}, environ={})
    app = create_app(config, legacy=legacy_app(), v2=v2_app(), store=records)
    with running_server(app) as url:
        answer = httpx.put(f"{url}/legacy/basket/mine")

    assert (answer.json(), answer.headers["x-served-by"]) == ({"basket": "mine"}, state)


def test_v2_redirects_and_kept_methods_on_legacy_urls_stay_legacy(records: RecordStore) -> None:
    manifest = parse_manifest(
        '[[module]]\nname = "basket"\npaths = ["/basket/*"]\nstate = "v2"\n'
        'keep_on_legacy = ["GET /basket/*"]\n',
        source="shop.toml",
    )
    config = configure(manifest, flags={"v2": "shop:v2"}, environ={})
    app = create_app(config, legacy=legacy_app(), v2=v2_app(), store=records)
    with running_server(app) as url:
        redirected = httpx.put(f"{url}/legacy/basket/mine/")
        options = httpx.options(f"{url}/legacy/basket/mine")
        head = httpx.head(f"{url}/legacy/basket/mine")

    # FastAPI redirects the slash away; the client is sent to a legacy URL, never a v2 one.
    assert redirected.status_code == 307
    assert redirected.headers["location"] == f"{url}/legacy/basket/mine"
    # v2 has no GET there: the GET is kept on legacy, and so are its HEAD and the OPTIONS
    # whose Allow lists every method of the path.
    allowed = {method.strip() for method in options.headers["allow"].split(",")}
    assert (options.headers["x-served-by"], allowed) == (
        "legacy",
        {"GET", "HEAD", "OPTIONS", "PUT"},
    )
    assert (head.status_code, head.headers["x-served-by"]) == (200, "legacy")
