"""Users whose hash predates argon2id still log in, and leave with an argon2id hash."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from shared.db import Database
from shared.models import User
from tests.conduit import Api


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256"])
def test_login_upgrades_a_werkzeug_hash(api: Api, database: Database, method: str) -> None:
    with database.transaction() as session:
        session.add(
            User(
                username="oldtimer",
                email="old@example.com",
                password_hash=generate_password_hash("from-2019-pass", method=method),
            )
        )

    wrong = api.post(
        "/users/login", json={"user": {"email": "old@example.com", "password": "nope-nope"}}
    )
    with database.session(write=False) as session:
        untouched = session.scalar(select(User.password_hash))
    right = api.post(
        "/users/login", json={"user": {"email": "old@example.com", "password": "from-2019-pass"}}
    )
    with database.session(write=False) as session:
        upgraded = session.scalar(select(User.password_hash))

    assert wrong.status_code == 401
    assert untouched is not None
    assert untouched.startswith(method.split(":")[0])
    assert right.status_code == 200
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$")
    again = api.post(
        "/users/login", json={"user": {"email": "old@example.com", "password": "from-2019-pass"}}
    )
    assert again.status_code == 200
