"""``gateway serve`` replays shadow samples in a process of its own, at idle priority, and
stops it with the server; the process starts with the first sample, whenever a module
starts sampling."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from gateway.records.store import RecordStore
from gateway.records.tables import ShadowComparison
from gateway.records.urls import records_url
from tests.served import gateway_serve
from tests.serving import first_answer, free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
DEADLINE_SECONDS = 60
MANIFEST = """\
[gateway]
legacy = "legacy_flask:create_app"
v2 = "v2:create_app"
errors = "v2.errors:gateway_error"

[[module]]
name = "articles"
paths = ["/api/articles", "/api/articles/**"]
state = "shadow"
shadow_sample_rate = 1.0
"""


def _replayers(pid: int) -> list[int]:
    """The children of ``pid`` started by multiprocessing's spawn (not its resource tracker)."""
    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def _comparisons(store: RecordStore, count: int) -> list[ShadowComparison]:
    """The stored comparisons, once there are at least ``count`` of them."""

    def found() -> list[ShadowComparison]:
        with store.session() as session:
            rows = list(session.scalars(select(ShadowComparison)))
        return rows if len(rows) >= count else []

    return wait_until(
        found, timeout=DEADLINE_SECONDS, interval=0.1, message=f"{count} shadow comparisons"
    )


@contextmanager
def _served_conduit(
    tmp_path: Path, manifest_text: str
) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    """``gateway serve`` of the Conduit example on a fresh SQLite file: the process, its
    base URL and the database URL."""
    database = f"sqlite:///{tmp_path / 'conduit.db'}"
    env = {
        **os.environ,
        "CONDUIT_DATABASE_URL": database,
        "CONDUIT_VAR_DIR": str(tmp_path / "var"),
        # Run from elsewhere, the example is found as a team's app is: on the python path.
        "GATEWAY_PYTHON_PATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, "-m", "shared.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True
    )
    manifest = tmp_path / "migration.toml"
    manifest.write_text(manifest_text, encoding="utf-8")
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--manifest", str(manifest)]
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], cwd=tmp_path, env=env, stdout=output, stderr=output
        )
    try:
        base = f"http://127.0.0.1:{port}"
        first_answer(f"{base}/health", proc, output=log.read_text, timeout=DEADLINE_SECONDS)
        yield proc, base, database
    finally:
        proc.terminate()
        proc.wait(timeout=DEADLINE_SECONDS)


def _create_article(http: httpx.Client) -> tuple[httpx.Response, str]:
    body = {"username": "ann", "email": "ann@example.com", "password": "a-long-password"}
    token = http.post("/users", json={"user": body}).json()["user"]["token"]
    article = {"title": "Shadowed", "description": "d", "body": "b", "tagList": ["x"]}
    created = http.post(
        "/articles", json={"article": article}, headers={"Authorization": f"Token {token}"}
    )
    return created, created.json()["article"]["slug"]


def _recorded(database: str, count: int) -> list[ShadowComparison]:
    store = RecordStore(records_url(database))
    try:
        return _comparisons(store, count)
    finally:
        store.engine.dispose()


def test_gateway_serve_replays_in_an_idle_priority_process(tmp_path: Path) -> None:
    with _served_conduit(tmp_path, MANIFEST) as (proc, base, database):
        with httpx.Client(base_url=f"{base}/legacy/api", timeout=DEADLINE_SECONDS) as http:
            _, slug = _create_article(http)
            answers = [http.get("/articles"), http.get(f"/articles/{slug}")]
        records = _recorded(database, len(answers))
        # It has replayed: by now it runs at the priority it chose on starting.
        (replayer,) = _replayers(proc.pid)
        policy = os.sched_getscheduler(replayer)

    assert [a.status_code for a in answers] == [200, 200]
    assert policy == os.SCHED_IDLE  # clients first: replays get only CPU nobody else wants
    # The GETs were replayed and matched; the POSTs were never replayed.
    assert sorted((r.request["path"], r.outcome) for r in records) == [
        ("/legacy/api/articles", "matched"),
        (f"/legacy/api/articles/{slug}", "matched"),
    ]
    assert not Path(f"/proc/{replayer}").exists()  # it went with the server


def test_a_shadowed_write_is_recorded_by_the_replay_process(tmp_path: Path) -> None:
    """v2 answers the write in the serving process; its answer and both write sets cross to
    the replay process (pickled), which compares and records them."""
    writes = MANIFEST + (
        'shadow_writes = true\n\n[module.noise]\n"article.createdAt" = "timestamp"\n'
        '"article.updatedAt" = "timestamp"\n'
    )
    with _served_conduit(tmp_path, writes) as (_proc, base, database):
        with httpx.Client(base_url=f"{base}/legacy/api", timeout=DEADLINE_SECONDS) as http:
            created, _ = _create_article(http)
        (record,) = _recorded(database, 1)

    assert created.status_code == 201
    assert (record.request["method"], record.outcome, record.error) == ("POST", "matched", None)


def test_a_module_moved_to_shadow_at_run_time_is_replayed_in_a_process_of_its_own(
    tmp_path: Path,
) -> None:
    module = '[[module]]\nname = "pid"\npaths = ["/pid"]\n'
    with gateway_serve(tmp_path, modules=module) as (proc, base):
        before = _replayers(proc.pid)  # nothing samples yet: no replay process
        change = ["set", "pid", "shadow", "--sample", "1", "--reason", "compare"]
        subprocess.run([sys.executable, "-m", "gateway.cli", *change], cwd=tmp_path, check=True)
        store = RecordStore(f"sqlite:///{tmp_path / 'records.db'}")

        def replayed() -> list[int] | None:
            assert httpx.get(f"{base}/legacy/pid", timeout=DEADLINE_SECONDS).status_code == 200
            with store.session() as session:
                recorded = session.scalars(select(ShadowComparison)).first()
            return _replayers(proc.pid) if recorded is not None else None

        try:
            after = wait_until(replayed, timeout=DEADLINE_SECONDS, interval=0.2, message="a replay")
        finally:
            store.engine.dispose()

    assert before == []
    assert len(after) == 1
