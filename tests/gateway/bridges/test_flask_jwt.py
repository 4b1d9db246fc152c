"""FlaskJWTBridge: flask-jwt-extended tokens accepted and refused alike on both sides."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from flask import Flask

from gateway.bridges.flask_jwt import FlaskJWTBridge
from tests.gateway.bridges.helpers import BridgeServer, make_user
from tests.gateway.bridges.legacy_example import RS_PUBLIC_KEY

SIDES = ["/legacy", "/v2"]
MISSING = {
    "msg": "Missing JWT in headers or cookies"
    ' (Missing Authorization Header; Missing cookie "access_token_cookie")'
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A token with any header, signed by hand (``key`` None: no signature at all)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if key is None:
        return f"{signing_input}."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims_of(token: str) -> dict[str, Any]:
    unverified: dict[str, Any] = pyjwt.decode(token, options={"verify_signature": False})
    return unverified


def login(http: httpx.Client, side: str, name: str) -> tuple[str, dict[str, str]]:
    user_id = str(make_user(http, name))
    answer = http.post(f"{side}/jwt/login", json={"user_id": int(user_id)})
    assert answer.status_code == 200
    return user_id, answer.json()


def assert_refused_alike(
    http: httpx.Client, path: str, status: int, body: dict[str, Any], **request: Any
) -> None:
    """Both sides answer ``path`` with ``status`` and the legacy app's exact body and headers."""
    method = request.pop("method", "GET")
    legacy = http.request(method, f"/legacy{path}", **request)
    v2 = http.request(method, f"/v2{path}", **request)

    assert (legacy.status_code, legacy.json()) == (status, body)
    assert (v2.status_code, v2.content) == (legacy.status_code, legacy.content)
    for name in ("content-type", "content-length", "www-authenticate"):
        assert v2.headers.get(name) == legacy.headers.get(name), name


@pytest.mark.parametrize(("issuer", "verifier"), [("/legacy", "/v2"), ("/v2", "/legacy")])
def test_token_issued_by_one_side_works_on_the_other(
    http: httpx.Client, issuer: str, verifier: str
) -> None:
    user_id, tokens = login(http, issuer, f"user-{issuer[1:]}")

    answer = http.get(f"{verifier}/jwt/me", headers=bearer(tokens["access_token"]))

    assert answer.status_code == 200
    assert answer.json() == {"sub": user_id, "name": f"user-{issuer[1:]}", "scope": "notes"}


def test_both_sides_issue_the_same_claims(http: httpx.Client) -> None:
    _, legacy_tokens = login(http, "/legacy", "judy")
    _, v2_tokens = login(http, "/v2", "mallory")

    for kind in ("access_token", "refresh_token"):
        legacy_claims, v2_claims = claims_of(legacy_tokens[kind]), claims_of(v2_tokens[kind])
        assert sorted(v2_claims) == sorted(legacy_claims), kind
        assert (v2_claims["iss"], v2_claims["type"]) == (
            legacy_claims["iss"],
            legacy_claims["type"],
        )
        assert v2_claims["fresh"] == legacy_claims["fresh"]


def test_missing_token_is_refused_alike(http: httpx.Client) -> None:
    assert_refused_alike(http, "/jwt/me", 401, MISSING)


def test_expired_token_gets_the_teams_own_answer(http: httpx.Client, server: BridgeServer) -> None:
    user_id = str(make_user(http, "ken"))
    expired = server.auth.create_access_token(user_id, expires_delta=timedelta(minutes=-5))

    assert_refused_alike(
        http, "/jwt/me", 401, {"error": "token_expired", "sub": user_id}, headers=bearer(expired)
    )
    assert http.get("/v2/jwt/me", headers=bearer(expired)).headers["www-authenticate"] == (
        'Bearer error="invalid_token"'
    )


def test_token_signed_with_another_key_is_refused(http: httpx.Client) -> None:
    _, tokens = login(http, "/legacy", "leo")
    other = pyjwt.encode(claims_of(tokens["access_token"]), "another-key" * 4, algorithm="HS256")

    assert_refused_alike(
        http, "/jwt/me", 422, {"msg": "Signature verification failed"}, headers=bearer(other)
    )


@pytest.mark.parametrize(
    "header",
    [{"alg": "none", "typ": "JWT"}, {"alg": "RS256", "typ": "JWT"}],
    ids=["alg-none", "rs256-on-hs256-app"],
)
def test_token_with_an_algorithm_the_app_does_not_use_is_refused(
    http: httpx.Client, header: dict[str, str]
) -> None:
    _, tokens = login(http, "/legacy", f"nia-{header['alg']}")
    token = forged(header, claims_of(tokens["access_token"]), None)
    if header["alg"] != "none":
        token += b64(b"not a signature")

    assert_refused_alike(
        http,
        "/jwt/me",
        422,
        {"msg": "The specified alg value is not allowed"},
        headers=bearer(token),
    )


def test_hs256_token_keyed_with_the_rs256_public_key_is_refused(http: httpx.Client) -> None:
    # The key-confusion attack: the public key, known to all, used as an HMAC secret.
    token = forged(
        {"alg": "HS256", "typ": "JWT"},
        {"sub": "1", "type": "access", "fresh": False, "jti": "x", "iat": 0, "nbf": 0},
        RS_PUBLIC_KEY.encode(),
    )

    legacy = http.get("/rs256/legacy/jwt/me", headers=bearer(token))
    v2 = http.get("/rs256/v2/jwt/me", headers=bearer(token))

    assert (legacy.status_code, legacy.json()) == (
        422,
        {"msg": "The specified alg value is not allowed"},
    )
    assert (v2.status_code, v2.content) == (legacy.status_code, legacy.content)


@pytest.mark.parametrize("revoker", SIDES)
def test_revoked_token_is_refused_on_both_sides(http: httpx.Client, revoker: str) -> None:
    _, tokens = login(http, "/legacy", f"olga-{revoker[1:]}")
    access = bearer(tokens["access_token"])

    revoked = http.post(f"{revoker}/jwt/revoke", headers=access)
    assert revoked.json() == {"revoked": claims_of(tokens["access_token"])["jti"]}

    assert_refused_alike(http, "/jwt/me", 401, {"msg": "Token has been revoked"}, headers=access)


def test_fresh_only_route_refuses_a_refreshed_token(http: httpx.Client) -> None:
    user_id, tokens = login(http, "/legacy", "peggy")
    for side in SIDES:
        fresh = http.get(f"{side}/jwt/fresh", headers=bearer(tokens["access_token"]))
        assert fresh.json() == {"sub": user_id}, side

    for refresher in SIDES:
        refreshed = http.post(f"{refresher}/jwt/refresh", headers=bearer(tokens["refresh_token"]))
        assert refreshed.status_code == 200
        not_fresh = bearer(refreshed.json()["access_token"])

        assert http.get("/legacy/jwt/me", headers=not_fresh).json()["sub"] == user_id
        assert http.get("/v2/jwt/me", headers=not_fresh).json()["sub"] == user_id
        assert_refused_alike(
            http, "/jwt/fresh", 401, {"msg": "Fresh token required"}, headers=not_fresh
        )


def test_refresh_token_is_only_good_for_refreshing(http: httpx.Client) -> None:
    _, tokens = login(http, "/v2", "quinn")

    assert_refused_alike(
        http,
        "/jwt/me",
        422,
        {"msg": "Only non-refresh tokens are allowed"},
        headers=bearer(tokens["refresh_token"]),
    )
    assert_refused_alike(
        http,
        "/jwt/refresh",
        422,
        {"msg": "Only refresh tokens are allowed"},
        method="POST",
        headers=bearer(tokens["access_token"]),
    )


@pytest.mark.parametrize("issuer", SIDES)
def test_cookies_need_the_csrf_token_on_unsafe_methods(http: httpx.Client, issuer: str) -> None:
    user_id = str(make_user(http, f"rupert-{issuer[1:]}"))
    logged_in = http.post(f"{issuer}/jwt/cookie-login", json={"user_id": int(user_id)})
    assert logged_in.status_code == 200
    csrf = http.cookies["csrf_access_token"]
    assert csrf == claims_of(http.cookies["access_token_cookie"])["csrf"]

    for side in SIDES:
        assert http.get(f"{side}/jwt/me").json()["sub"] == user_id, side
        posted = http.post(f"{side}/jwt/me", headers={"X-CSRF-TOKEN": csrf})
        assert posted.json()["sub"] == user_id, side
    assert_refused_alike(http, "/jwt/me", 401, {"msg": "Missing CSRF token"}, method="POST")
    assert_refused_alike(
        http,
        "/jwt/me",
        401,
        {"msg": "CSRF double submit tokens do not match"},
        method="POST",
        headers={"X-CSRF-TOKEN": "not-" + csrf},
    )


def test_v2_sets_and_unsets_the_cookies_flask_does(http: httpx.Client) -> None:
    user_id = make_user(http, "sybil")
    legacy = http.post("/legacy/jwt/cookie-login", json={"user_id": user_id})
    v2 = http.post("/v2/jwt/cookie-login", json={"user_id": user_id})

    def attributes(answer: httpx.Response) -> list[tuple[str, list[str]]]:
        cookies = answer.headers.get_list("set-cookie")
        return [(c.split("=")[0], [p.strip() for p in c.split(";")[1:]]) for c in cookies]

    assert [name for name, _ in attributes(v2)] == [
        "access_token_cookie",
        "csrf_access_token",
        "refresh_token_cookie",
        "csrf_refresh_token",
    ]
    assert attributes(v2) == attributes(legacy)

    logged_out = http.post("/v2/jwt/cookie-logout")
    assert len(logged_out.headers.get_list("set-cookie")) == 4
    assert "access_token_cookie" not in http.cookies
    assert_refused_alike(http, "/jwt/me", 401, MISSING)


def test_token_in_the_json_body(http: httpx.Client) -> None:
    user_id, tokens = login(http, "/legacy", "trent")
    body = {"access_token": tokens["access_token"], "note": "read twice"}

    for side in SIDES:
        answer = http.post(f"{side}/jwt/json-me", json=body)
        assert answer.json() == {"sub": user_id, "note": "read twice"}, side
    assert_refused_alike(
        http,
        "/jwt/json-me",
        401,
        {"msg": 'Missing "access_token" key in json data.'},
        method="POST",
        json={"access_token": "", "note": "no token"},
    )


def test_optional_gives_none_without_a_token(http: httpx.Client) -> None:
    user_id, tokens = login(http, "/legacy", "uma")

    assert http.get("/v2/jwt/optional").json() == {"sub": None}
    assert http.get("/v2/jwt/optional", headers=bearer(tokens["access_token"])).json() == {
        "sub": user_id
    }
    wrong_kind = http.get("/v2/jwt/optional", headers=bearer(tokens["refresh_token"]))
    assert wrong_kind.status_code == 422  # optional tolerates no token, not a wrong one


def test_unknown_user_is_refused_by_the_user_lookup(
    http: httpx.Client, server: BridgeServer
) -> None:
    token = server.auth.create_access_token("999999")

    assert_refused_alike(
        http, "/jwt/me", 401, {"msg": "Error loading the user 999999"}, headers=bearer(token)
    )


def test_without_install_fastapi_answers_the_status(http: httpx.Client) -> None:
    answer = http.get("/v2-uninstalled/jwt/me")

    assert answer.status_code == 401
    assert answer.json() == {"detail": json.dumps(MISSING, separators=(",", ":")) + "\n"}


def test_identity_reads_the_configured_claim(server: BridgeServer) -> None:
    claims = claims_of(server.auth.create_access_token("42", additional_claims={"room": "b"}))

    assert server.auth.identity(claims) == "42"
    assert (claims["room"], claims["scope"], claims["fresh"]) == ("b", "notes", False)


def test_an_app_without_jwt_manager_is_refused() -> None:
    with pytest.raises(TypeError, match="has no flask-jwt-extended JWTManager"):
        FlaskJWTBridge(Flask("no_jwt"))
