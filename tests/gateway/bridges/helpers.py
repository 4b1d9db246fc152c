"""Small helpers shared by the bridge tests."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from flask import Flask

from gateway.bridges.flask_jwt import FlaskJWTBridge
from gateway.bridges.flask_session import FlaskSessionBridge
from gateway.bridges.flask_sqlalchemy import FlaskSQLAlchemyBridge


@dataclass(frozen=True)
class BridgeServer:
    """The running server and, in process, the legacy app and the bridges it serves."""

    url: str
    legacy: Flask
    notes_db: FlaskSQLAlchemyBridge
    sessions: FlaskSessionBridge
    auth: FlaskJWTBridge


def make_user(http: httpx.Client, name: str) -> int:
    """A user created through the legacy app; its id."""
    answer = http.post("/legacy/users", json={"name": name})
    assert answer.status_code == 201, answer.text
    user_id: int = answer.json()["id"]
    return user_id
