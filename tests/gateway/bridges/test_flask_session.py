"""FlaskSessionBridge: one signed cookie session, and one Flask-Login user, on both sides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.sessions import SessionInterface

from gateway.bridges.flask_session import FlaskSessionBridge
from tests.gateway.bridges.helpers import BridgeServer, make_user
from tests.gateway.bridges.legacy_example import OLD_SESSION_KEY, SESSION_KEY


def signed_session(data: dict[str, Any], *, key: str, fallbacks: list[str] | None = None) -> str:
    """A session cookie value as a Flask app with ``key`` would write it."""
    app = Flask("signer")
    app.config.update(SECRET_KEY=key, SECRET_KEY_FALLBACKS=fallbacks or [])
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value: str = serializer.dumps(data)
    return value


def read_session(value: str, *, key: str) -> Any:
    """What a Flask app knowing only ``key`` reads in a session cookie value."""
    app = Flask("reader")
    app.config.update(SECRET_KEY=key)
    return app.session_interface.get_signing_serializer(app).loads(value)  # type: ignore[attr-defined]


def log_in_on_legacy(http: httpx.Client, name: str) -> str:
    user_id = str(make_user(http, name))
    answer = http.post("/legacy/session/login", json={"user_id": int(user_id)})
    assert answer.status_code == 200
    assert answer.json() == {"user_id": user_id}
    return user_id


def cookie_attributes(set_cookie: str) -> list[str]:
    """The attributes of a Set-Cookie header, without its value."""
    return [part.strip() for part in set_cookie.split(";")[1:]]


def test_flask_login_login_on_legacy_is_seen_on_v2(http: httpx.Client) -> None:
    user_id = log_in_on_legacy(http, "alice")

    assert http.get("/v2/session/whoami").json() == {"user_id": user_id, "fresh": True}


def test_anonymous_session_has_no_user(http: httpx.Client) -> None:
    assert http.get("/v2/session/whoami").json() == {"user_id": None, "fresh": None}

    answer = http.post("/v2/session/cart", json={"cart": []})
    assert answer.headers["set-cookie"].startswith("session=")

    # Flask-Login's basic protection marks a session without its client identifier not fresh.
    assert http.get("/v2/session/whoami").json() == {"user_id": None, "fresh": False}
    assert http.get("/legacy/session/me").status_code == 401


def test_logout_on_v2_logs_out_on_legacy(http: httpx.Client) -> None:
    log_in_on_legacy(http, "bob")
    assert http.get("/legacy/session/me").status_code == 200

    answer = http.post("/v2/session/logout")

    assert answer.status_code == 200
    assert answer.headers["set-cookie"].startswith("session=; Expires=Thu, 01 Jan 1970 00:00:00")
    assert answer.headers["vary"] == "Cookie"
    assert http.get("/legacy/session/me").status_code == 401
    assert http.get("/v2/session/whoami").json()["user_id"] is None


def test_session_changed_on_v2_is_read_by_flask_and_keeps_the_login(http: httpx.Client) -> None:
    user_id = log_in_on_legacy(http, "carol")

    assert http.post("/v2/session/cart", json={"cart": ["apple", "pear"]}).status_code == 200

    assert http.get("/legacy/session/cart").json() == {"cart": ["apple", "pear"]}
    assert http.get("/legacy/session/me").json() == {"user_id": user_id}


def test_session_changed_on_legacy_is_read_by_v2(http: httpx.Client) -> None:
    assert http.post("/legacy/session/cart", json={"cart": ["plum"]}).status_code == 200

    assert http.get("/v2/session/cart").json() == {"cart": ["plum"]}


def test_v2_writes_the_cookie_flask_writes(http: httpx.Client) -> None:
    legacy = http.post("/legacy/session/cart", json={"cart": ["fig"]})
    v2 = http.post("/v2/session/cart", json={"cart": ["fig"]})

    assert cookie_attributes(v2.headers["set-cookie"]) == ["HttpOnly", "Path=/", "SameSite=Lax"]
    assert cookie_attributes(v2.headers["set-cookie"]) == cookie_attributes(
        legacy.headers["set-cookie"]
    )
    assert v2.headers["vary"] == legacy.headers["vary"] == "Cookie"
    written = v2.headers["set-cookie"].split(";")[0].removeprefix("session=")
    # "_fresh": Flask-Login's basic protection, on a session that has no client identifier.
    assert read_session(written, key=SESSION_KEY) == {"cart": ["fig"], "_fresh": False}


def test_tampered_cookie_is_an_empty_session(http: httpx.Client, server: BridgeServer) -> None:
    log_in_on_legacy(http, "dave")
    value = http.cookies["session"]
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")

    with httpx.Client(base_url=server.url, cookies={"session": tampered}) as other:
        assert other.get("/v2/session/whoami").json() == {"user_id": None, "fresh": None}
        assert other.get("/legacy/session/me").status_code == 401


def test_cookie_signed_with_another_key_is_an_empty_session(
    http: httpx.Client, server: BridgeServer
) -> None:
    user_id = str(make_user(http, "erin"))
    forged = signed_session({"_user_id": user_id, "_fresh": True}, key="someone-elses-key")

    with httpx.Client(base_url=server.url, cookies={"session": forged}) as other:
        assert other.get("/v2/session/whoami").json() == {"user_id": None, "fresh": None}
        assert other.get("/legacy/session/me").status_code == 401


def test_expired_cookie_is_an_empty_session(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch, server: BridgeServer
) -> None:
    log_in_on_legacy(http, "frank")
    # Any cookie is older than a negative lifetime: expired, without waiting.
    monkeypatch.setitem(server.legacy.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=-1))

    assert http.get("/v2/session/whoami").json() == {"user_id": None, "fresh": None}
    assert http.get("/legacy/session/me").status_code == 401


def test_cookie_signed_with_a_fallback_key_is_read_and_resigned(
    http: httpx.Client, server: BridgeServer
) -> None:
    user_id = str(make_user(http, "grace"))
    # Written before the key rotation: OLD_SESSION_KEY is now in SECRET_KEY_FALLBACKS.
    old = signed_session({"_user_id": user_id, "_fresh": True}, key=OLD_SESSION_KEY)

    with httpx.Client(base_url=server.url, cookies={"session": old}) as other:
        assert other.get("/legacy/session/me").json() == {"user_id": user_id}
    with httpx.Client(base_url=server.url, cookies={"session": old}) as other:
        # Not fresh: the forged session lacks Flask-Login's client identifier (basic protection).
        assert other.get("/v2/session/whoami").json() == {"user_id": user_id, "fresh": False}
        written = other.post("/v2/session/cart", json={"cart": ["kiwi"]})

    resigned = written.cookies["session"]
    assert read_session(resigned, key=SESSION_KEY) == {
        "_user_id": user_id,
        "_fresh": False,
        "cart": ["kiwi"],
    }


def test_strong_session_protection_logs_out_another_client(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch, server: BridgeServer
) -> None:
    monkeypatch.setitem(server.legacy.config, "SESSION_PROTECTION", "strong")
    http.headers["User-Agent"] = "browser-a"
    user_id = log_in_on_legacy(http, "heidi")

    assert http.get("/v2/session/whoami").json() == {"user_id": user_id, "fresh": True}
    stolen = {"User-Agent": "browser-b"}
    assert http.get("/v2/session/whoami", headers=stolen).json()["user_id"] is None
    assert http.get("/legacy/session/me", headers=stolen).status_code == 401


def test_basic_session_protection_marks_another_client_not_fresh(http: httpx.Client) -> None:
    http.headers["User-Agent"] = "browser-a"
    user_id = log_in_on_legacy(http, "ivan")

    moved = http.get("/v2/session/whoami", headers={"X-Forwarded-For": "203.0.113.9"})

    assert moved.json() == {"user_id": user_id, "fresh": False}
    assert http.get("/v2/session/whoami").json() == {"user_id": user_id, "fresh": True}


def test_a_server_side_session_store_is_refused() -> None:
    class StoredSessions(SessionInterface):
        pass

    app = Flask("server_side_sessions")
    app.session_interface = StoredSessions()

    with pytest.raises(TypeError, match=r"stores sessions with .*StoredSessions"):
        FlaskSessionBridge(app)
