"""The notes app cut over: legacy at its own URLs (``legacy_prefix = "/"``), and keep_on_legacy.

Through a real server on the suite's database, in both prefix modes ("/" and "/legacy"): the
pages, redirects, links, static file and session cookie are exactly the Flask app's own when
called alone (under the same script root); the gateway's own endpoints move under /_gateway
at the root, while /health there is the legacy app's; a module in state v2 or canary keeps
``DELETE /api/token`` on legacy, whose revocation v2 then honours; without the keep the
gateway refuses to start, and ``gateway manifest check`` / ``gateway routes`` say why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from gateway.app import create_app
from gateway.cli import main
from gateway.config.configuration import configure
from gateway.config.errors import ConfigError
from gateway.config.manifest import parse_manifest
from gateway.records.store import RecordStore
from gateway.routing.canary import canary_bucket
from tests.examples.helpers import (
    NOTES_DIR,
    MakeUser,
    api_tokens,
    bearer,
    csrf_token,
    dispose_legacy_engines,
)
from tests.serving import running_server

MANIFEST = NOTES_DIR / "migration.toml"
PREFIXES = pytest.mark.parametrize("prefix", ["/", "/legacy"])
KEEP = 'keep_on_legacy = ["DELETE /api/token"]'
REFUSAL = (
    "module api is in state v2, but v2 does not serve DELETE /v2/api/token (legacy DELETE "
    '{base}/api/token): add it to v2, or list "DELETE /api/token" under keep_on_legacy'
)
_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+"')


def manifest_text(api: str, gateway_lines: str = "") -> str:
    """The shipped manifest, with the api module's state replaced and lines added to [gateway]."""
    shipped = MANIFEST.read_text()
    text = shipped.replace(
        '"/api/token/refresh"]\nstate = "legacy"', f'"/api/token/refresh"]\n{api}'
    ).replace('sticky = "bearer-sub"\n', f'sticky = "bearer-sub"\n{gateway_lines}')
    assert f'"/api/token/refresh"]\n{api}\n' in text
    assert f'sticky = "bearer-sub"\n{gateway_lines}' in text
    return text


def bases(prefix: str) -> tuple[str, str]:
    """Where the legacy app's paths start, and where the gateway's own endpoints do."""
    return ("", "/_gateway") if prefix == "/" else (prefix, "")


@dataclass
class Served:
    app: FastAPI
    legacy: httpx.Client  # the legacy app's URLs: base_url ends with the legacy prefix
    own: httpx.Client  # the gateway's own endpoints


@contextmanager
def gateway(prefix: str, api: str, records: RecordStore) -> Iterator[Served]:
    """The example's gateway, by its manifest and the legacy_prefix flag, on a real server."""
    config = configure(
        parse_manifest(manifest_text(api), directory=NOTES_DIR),
        flags={"legacy_prefix": prefix},
        environ={},
    )
    app = create_app(config, store=records)
    base, own = bases(prefix)
    try:
        with (
            running_server(app) as url,
            httpx.Client(base_url=url + base, timeout=30) as legacy,
            httpx.Client(base_url=url + own, timeout=30) as own_client,
        ):
            yield Served(app, legacy, own_client)
    finally:
        dispose_legacy_engines(app)


def cookie_attributes(response: httpx.Response) -> list[list[str]]:
    """Each Set-Cookie without its value: the name and the attributes, as sent."""
    cookies = []
    for header in response.headers.get_list("set-cookie"):
        name, *attributes = (part.strip() for part in header.split(";"))
        cookies.append([name.split("=", 1)[0], *sorted(a.lower() for a in attributes)])
    return cookies


def visit(client: httpx.Client) -> dict[str, Any]:
    """What a browser sees of the app, less what varies per request (the CSRF tokens)."""
    to_login = client.get("/notes")
    login = client.get("/login")
    form = {"csrf_token": csrf_token(login.text), "username": "ada", "password": "ada-password"}
    signed_in = client.post("/login", data=form)
    notes = client.get("/notes")
    css = client.get("/static/style.css")
    missing = client.get("/health")
    return {
        "redirect to login": (to_login.status_code, to_login.headers.get("location")),
        "login page": (login.status_code, _CSRF_VALUE.sub(r'\1"', login.text)),
        "signed in": (signed_in.status_code, signed_in.headers.get("location")),
        "session cookie": cookie_attributes(signed_in),
        "notes page": (notes.status_code, _CSRF_VALUE.sub(r'\1"', notes.text)),
        "static file": (css.status_code, css.headers["content-type"], css.content),
        "not found": (missing.status_code, missing.text),
        "served by": {
            r.headers.get("x-served-by") for r in (to_login, login, signed_in, notes, css, missing)
        },
    }


@PREFIXES
def test_the_pages_are_the_flask_apps_own_under_its_prefix(
    prefix: str, notes_environment: None, records: RecordStore, make_user: MakeUser
) -> None:
    make_user("ada", "ada-password")
    base, _own = bases(prefix)
    with gateway(prefix, 'state = "legacy"', records) as served:
        through_gateway = visit(served.legacy)
        # The very Flask app the gateway serves, called alone as WSGI with the same script root.
        transport = httpx.WSGITransport(app=served.app.state.legacy.wsgi_app, script_name=base)
        with httpx.Client(transport=transport, base_url="http://localhost") as alone:
            by_itself = visit(alone)

    assert through_gateway.pop("served by") == {"legacy"}
    by_itself.pop("served by")
    assert through_gateway == by_itself
    # What the two agree on is the app's URLs at the prefix: at the root, exactly its own.
    next_page = quote(f"{base}/notes", safe="")
    assert through_gateway["redirect to login"] == (302, f"{base}/login?next={next_page}")
    assert through_gateway["signed in"] == (302, f"{base}/notes")
    page = through_gateway["notes page"][1]
    for link in ("/static/style.css", "/", "/notes/new"):
        assert f'href="{base}{link}"' in page
    assert f'action="{base}/logout"' in page
    assert through_gateway["session cookie"] == [["session", "httponly", "path=/"]]
    assert through_gateway["static file"][0] == 200
    assert through_gateway["not found"][0] == 404


@PREFIXES
def test_the_gateways_own_endpoints_move_out_of_the_legacy_apps_way(
    prefix: str, notes_environment: None, records: RecordStore, notes_tables: None
) -> None:
    base, own = bases(prefix)
    with gateway(prefix, 'state = "legacy"', records) as served:
        health = served.own.get("/health")
        paths = served.own.get("/openapi.json").json()["paths"]
        docs = [served.own.get(page) for page in ("/docs", "/redoc")]
        assets = [url for page in docs for url in re.findall(r'(?:src|href)="([^"]+)"', page.text)]
        loaded = [served.own.get(url.removeprefix(own)) for url in assets]
        legacy_health = served.legacy.get("/health")
        flask_404 = served.app.state.legacy.wsgi_app.test_client().get("/health")

    assert (health.status_code, health.json()["status"]) == (200, "ok")
    assert health.headers["x-served-by"] == "gateway"
    assert {f"{own}/health", f"{base}/api/notes", "/v2/api/notes"} <= set(paths)
    assert [page.status_code for page in docs] == [200, 200]
    assert len(assets) >= 3
    assert all(url.startswith(f"{own}/docs-static/") for url in assets), assets
    assert [r.status_code for r in loaded] == [200] * len(assets)
    # At the root, /health is the legacy app's path: Flask's own 404, not the gateway's health.
    assert (legacy_health.status_code, legacy_health.headers["x-served-by"]) == (404, "legacy")
    assert legacy_health.text == flask_404.get_data(as_text=True)


@PREFIXES
def test_in_state_v2_a_kept_revocation_is_answered_by_legacy_and_holds_on_v2(
    prefix: str, notes_environment: None, records: RecordStore, make_user: MakeUser
) -> None:
    make_user("grace", "grace-password")
    base, _own = bases(prefix)
    with gateway(prefix, f'state = "v2"\n{KEEP}', records) as served:
        client = served.legacy
        tokens = api_tokens(client, "grace", "grace-password")
        token = bearer(tokens["access_token"])
        listed = client.get("/api/notes", headers=token)
        refreshed = client.post("/api/token/refresh", headers=bearer(tokens["refresh_token"]))
        fresh_token = bearer(refreshed.json()["access_token"])
        with_refreshed = client.get("/api/notes", headers=fresh_token)
        options = client.options("/api/token")
        revoked = client.delete("/api/token", headers=token)
        refused = client.get("/api/notes", headers=token)
        still_valid = client.get("/api/notes", headers=fresh_token)
        operations = served.own.get("/openapi.json").json()["paths"][f"{base}/api/token"]

    def side(response: httpx.Response) -> tuple[str, int]:
        return response.headers["x-served-by"], response.status_code

    assert side(listed) == side(refreshed) == side(with_refreshed) == ("v2", 200)
    assert with_refreshed.json() == {"notes": []}
    assert side(options)[0] == "legacy"
    assert side(revoked) == ("legacy", 200)
    assert revoked.json() == {"msg": "Token revoked"}
    assert side(refused) == ("v2", 401)
    assert refused.json() == {"msg": "Token has been revoked"}
    assert side(still_valid) == ("v2", 200)
    assert operations["delete"]["x-gateway-kept-on-legacy"] == "api"
    assert "x-gateway-kept-on-legacy" not in operations["post"]


@PREFIXES
def test_in_a_canary_a_kept_revocation_is_legacy_for_every_user(
    prefix: str, notes_environment: None, records: RecordStore, make_user: MakeUser
) -> None:
    ids = [make_user(f"user{n}", "a-password") for n in range(8)]
    expected = {
        n: "v2" if canary_bucket("api", f"sub:{user_id}") < 5000 else "legacy"
        for n, user_id in enumerate(ids)
    }
    assert set(expected.values()) == {"legacy", "v2"}, "8 users should land on both sides"
    seen = {}
    with gateway(prefix, f'state = "canary"\ncanary_percent = 50\n{KEEP}', records) as served:
        client = served.legacy
        for n in range(8):
            tokens = api_tokens(client, f"user{n}", "a-password")
            token = bearer(tokens["access_token"])
            answers = [
                client.get("/api/notes", headers=token),
                client.post("/api/token/refresh", headers=bearer(tokens["refresh_token"])),
                client.delete("/api/token", headers=token),
                client.get("/api/notes", headers=token),
            ]
            seen[n] = [(a.headers["x-served-by"], a.status_code) for a in answers]

    for n, side in expected.items():
        assert seen[n] == [(side, 200), (side, 200), ("legacy", 200), (side, 401)], n


@PREFIXES
def test_state_v2_without_the_keep_is_refused_naming_only_the_missing_route(
    prefix: str, notes_environment: None
) -> None:
    base, _own = bases(prefix)
    config = configure(
        parse_manifest(manifest_text('state = "v2"'), directory=NOTES_DIR),
        flags={"legacy_prefix": prefix},
        environ={},
    )

    with pytest.raises(ConfigError) as refused:
        create_app(config)

    (problem,) = refused.value.problems  # POST /api/token/refresh is served by v2: not named
    assert re.fullmatch(r"migration\.toml:\d+: " + re.escape(REFUSAL.format(base=base)), problem)


def write_manifest(tmp_path: Path, prefix: str, api: str) -> Path:
    """The example's manifest outside its folder, finding the apps by python_path, with
    legacy_prefix in its [gateway] table."""
    lines = f'python_path = ["{NOTES_DIR}"]\nlegacy_prefix = "{prefix}"\n'
    path = tmp_path / "migration.toml"
    path.write_text(manifest_text(api, lines))
    return path


@PREFIXES
def test_manifest_check_fails_without_the_keep_and_passes_with_it(
    prefix: str, tmp_path: Path, notes_environment: None
) -> None:
    base, _own = bases(prefix)
    runner = CliRunner()

    without = runner.invoke(
        main, ["manifest", "check", str(write_manifest(tmp_path, prefix, 'state = "v2"'))]
    )
    kept = write_manifest(tmp_path, prefix, f'state = "v2"\n{KEEP}')
    with_keep = runner.invoke(main, ["manifest", "check", str(kept)])

    assert without.exit_code == 1, without.output
    problems = [line for line in without.output.splitlines() if "does not serve" in line]
    assert len(problems) == 1, without.output
    assert problems[0].startswith(f"{tmp_path / 'migration.toml'}:")
    assert problems[0].endswith(REFUSAL.format(base=base))
    assert with_keep.exit_code == 0, with_keep.output
    assert "api=v2" in with_keep.output


@PREFIXES
def test_routes_shows_what_v2_serves_and_what_is_kept(
    prefix: str, tmp_path: Path, notes_environment: None
) -> None:
    base, _own = bases(prefix)
    manifest = write_manifest(tmp_path, prefix, f'state = "v2"\n{KEEP}')

    listed = CliRunner().invoke(main, ["routes", "--manifest", str(manifest)])

    assert listed.exit_code == 0, listed.output
    header, *lines = listed.output.splitlines()
    assert re.split(r"\s{2,}", header.strip()) == [
        "METHOD", "PATH", "MODULE", "STATE", "ON V2", "SERVED BY"
    ]  # fmt: skip
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines]
    rows = {(row[0], row[1]): row[2:] for row in cells}
    assert rows["DELETE", f"{base}/api/token"] == [
        "api", "v2", "kept on legacy", "legacy (keep_on_legacy)"
    ]  # fmt: skip
    assert rows["GET", f"{base}/api/notes"] == ["api", "v2", "served", "v2 /v2/api/notes"]
    assert rows["POST", f"{base}/api/token/refresh"][2] == "served"
    # v2 lacks the login page too, which is no problem while its module stays on legacy.
    assert rows["GET", f"{base}/login"] == ["auth", "legacy", "missing", "legacy"]
