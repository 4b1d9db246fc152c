"""The legacy app needs no gateway: `flask --app legacy_flask run` serves it alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from shared.settings import Settings
from tests.conftest import TEST_JWT_SECRET
from tests.serving import first_answer, free_port


def test_flask_run_serves_the_api_alone(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CONDUIT_DATABASE__URL": f"sqlite:///{tmp_path / 'alone.db'}",
        "CONDUIT_JWT__SECRET": TEST_JWT_SECRET,
        "CONDUIT_VAR_DIR": str(tmp_path),
    }
    # The schema comes from the migrations, as it would for a team running it by hand.
    subprocess.run(
        [sys.executable, "-m", "shared.cli", "db", "upgrade"], env=env, check=True, timeout=60
    )
    with subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "legacy_flask", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            stderr = proc.stderr
            tags = first_answer(
                f"{base}/api/tags", proc, output=lambda: stderr.read().decode() if stderr else ""
            )
            register = httpx.post(
                f"{base}/api/users",
                json={
                    "user": {"username": "solo", "email": "solo@example.com", "password": "x" * 10}
                },
            )

            assert tags.status_code == 200
            assert tags.json() == {"tags": []}
            assert register.status_code == 201
            token = register.json()["user"]["token"]
            me = httpx.get(f"{base}/api/user", headers={"Authorization": f"Token {token}"})
            assert me.json()["user"]["username"] == "solo"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
