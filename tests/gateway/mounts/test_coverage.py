"""A module moves to v2 only when v2 serves each of its routes and methods, or keeps them on
legacy; the routes kept there are legacy's in every state, and a root mount hides none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask, jsonify
from starlette.routing import Mount

from gateway.app import create_app
from gateway.cli.routes import legacy_routes
from gateway.config.configuration import configure
from gateway.config.errors import ConfigError
from gateway.config.manifest import parse_manifest
from gateway.edge.problems import problem
from gateway.mounts.coverage import coverage_problems
from gateway.mounts.sides import Sides, load_sides
from gateway.records.store import RecordStore
from tests.serving import running_server


def legacy_app() -> Flask:
    app = Flask("stock")

    @app.route("/items", methods=["GET", "POST"])
    def items() -> Any:
        return jsonify(side="legacy")

    @app.route("/items/<int:item_id>", methods=["GET", "DELETE"])
    def item(item_id: int) -> Any:
        return jsonify(side="legacy", id=item_id)

    @app.get("/files/<path:name>")
    def file(name: str) -> Any:
        return jsonify(side="legacy", name=name)

    return app


def v2_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    @app.post("/items")
    async def items() -> dict[str, str]:
        return {"side": "v2"}

    # Typed as Starlette types it: the legacy rule's sample must be an int to match.
    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, Any]:
        return {"side": "v2", "id": item_id}

    files = FastAPI()

    @files.get("/{name:path}")
    async def file(name: str) -> dict[str, str]:
        return {"side": "v2", "name": name}

    app.router.routes.append(Mount("/files", app=files))
    return app


def manifest(state: str, extra: str = "", legacy_prefix: str = "/legacy") -> str:
    percent = "canary_percent = 100\n" if state == "canary" else ""
    return (
        f'[gateway]\nlegacy_prefix = "{legacy_prefix}"\nv2 = "stock:v2"\n\n'
        f'[[module]]\nname = "stock"\npaths = ["/items", "/items/*", "/files/**"]\n'
        f'state = "{state}"\n{percent}{extra}'
    )


def sides_for(text: str, v2: Any = None) -> tuple[Any, Sides]:
    config = configure(parse_manifest(text, source="stock.toml"), environ={})
    v2 = v2 if v2 is not None else v2_app()
    return config, load_sides(config, errors=problem, legacy=legacy_app(), v2=v2)


@pytest.mark.parametrize("state", ["canary", "v2"])
def test_a_method_v2_lacks_is_refused_by_name(state: str, records: RecordStore) -> None:
    config, sides = sides_for(manifest(state))

    problems = coverage_problems(sides, config)
    with pytest.raises(ConfigError) as caught:
        create_app(config, legacy=legacy_app(), v2=v2_app(), store=records)

    assert problems == [
        f"stock.toml:5: module stock is in state {state}, but v2 does not serve "
        "DELETE /v2/items/{item_id} (legacy DELETE /legacy/items/{item_id}): add it to v2, "
        'or list "DELETE /items/*" under keep_on_legacy'
    ]
    assert caught.value.problems == problems


@pytest.mark.parametrize("state", ["legacy", "shadow"])
def test_a_module_not_on_v2_may_lack_routes(state: str) -> None:
    extra = "shadow_sample_rate = 0.5\n" if state == "shadow" else ""
    config, sides = sides_for(manifest(state, extra))

    assert coverage_problems(sides, config) == []


def test_the_route_table_says_which_rows_v2_serves() -> None:
    config, sides = sides_for(manifest("v2", 'keep_on_legacy = ["DELETE /items/*"]\n'))

    rows = {(r.methods, r.path): (r.on_v2, r.served_by) for r in legacy_routes(sides, config)}

    assert rows == {
        ("GET", "/legacy/items"): ("served", "v2 /v2/items"),
        ("POST", "/legacy/items"): ("served", "v2 /v2/items"),
        ("GET", "/legacy/items/{item_id}"): ("served", "v2 /v2/items/{item_id}"),
        ("DELETE", "/legacy/items/{item_id}"): ("kept on legacy", "legacy (keep_on_legacy)"),
        ("GET", "/legacy/files/{name}"): ("served", "v2 /v2/files/{name}"),
    }


def test_a_v2_without_a_route_table_is_not_judged() -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("never called while checking")

    config, sides = sides_for(manifest("v2"), v2=bare)

    assert coverage_problems(sides, config) == []
    assert {r.on_v2 for r in legacy_routes(sides, config)} == {"unknown"}


@contextmanager
def serving(text: str, records: RecordStore) -> Iterator[httpx.Client]:
    config = configure(parse_manifest(text, source="stock.toml"), environ={})
    app = create_app(config, legacy=legacy_app(), v2=v2_app(), store=records)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=15) as http:
        yield http


@pytest.mark.parametrize("legacy_prefix", ["/", "/legacy"])
@pytest.mark.parametrize("state", ["canary", "v2"])
def test_kept_routes_stay_on_legacy_in_every_state(
    state: str, legacy_prefix: str, records: RecordStore
) -> None:
    base = "" if legacy_prefix == "/" else legacy_prefix
    own = "/_gateway" if legacy_prefix == "/" else ""
    text = manifest(state, 'keep_on_legacy = ["DELETE /items/*"]\n', legacy_prefix)
    with serving(text, records) as http:
        kept = http.delete(f"{base}/items/7")
        moved = http.get(f"{base}/items/7")
        deep = http.get(f"{base}/files/a/b.txt")
        spec = http.get(f"{own}/openapi.json").json()

    assert (kept.headers["x-served-by"], kept.json()) == ("legacy", {"side": "legacy", "id": 7})
    assert (moved.headers["x-served-by"], moved.json()) == ("v2", {"side": "v2", "id": 7})
    assert deep.json() == {"side": "v2", "name": "a/b.txt"}
    # A kept route is never announced as replaced: no successor link, not deprecated.
    assert "link" not in kept.headers
    operations = spec["paths"][f"{base}/items/{{item_id}}"]
    assert operations["delete"]["x-gateway-kept-on-legacy"] == "stock"
    assert "x-gateway-kept-on-legacy" not in operations["get"]


def test_a_legacy_route_a_prefix_would_hide_at_the_root_is_refused(records: RecordStore) -> None:
    app = legacy_app()

    @app.get("/v2/old")
    def old() -> str:
        return "an older v2 of the team's own"

    config = configure(parse_manifest('[gateway]\nlegacy_prefix = "/"\n'), environ={})
    with pytest.raises(ConfigError) as caught:
        create_app(config, legacy=app, v2=v2_app(), store=records)

    assert caught.value.problems == [
        "the legacy route /v2/old is hidden by v2_prefix '/v2' with the legacy app at the root: "
        "choose another v2_prefix"
    ]
