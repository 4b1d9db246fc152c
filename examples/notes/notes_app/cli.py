"""``flask --app notes_app init-db [--demo]``."""

from __future__ import annotations

import click
from sqlalchemy import select

from notes_app.db import db
from notes_app.models import Note, User

DEMO_USERNAME = "ada"
DEMO_PASSWORD = "ada-password"
DEMO_NOTES = (
    ("The Analytical Engine", "It weaves algebraical patterns as the loom weaves flowers."),
    ("Note G", "A method for computing the Bernoulli numbers with the Engine."),
)


@click.command("init-db")
@click.option(
    "--demo",
    is_flag=True,
    help=f"Also add the user {DEMO_USERNAME!r} (password {DEMO_PASSWORD!r}) with two notes.",
)
def init_db_command(demo: bool) -> None:
    """Create the tables that do not exist yet."""
    db.create_all()
    click.echo("Initialised the database.")
    if not demo:
        return
    # Safe to run again: an existing demo user (and whatever it wrote) is left alone.
    if db.session.scalar(select(User).where(User.username == DEMO_USERNAME)) is not None:
        click.echo(f"The demo user {DEMO_USERNAME!r} already exists.")
        return
    user = User(username=DEMO_USERNAME)
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    db.session.flush()
    db.session.add_all(Note(owner_id=user.id, title=t, body=b) for t, b in DEMO_NOTES)
    db.session.commit()
    click.echo(f"Added the demo user {DEMO_USERNAME!r} with {len(DEMO_NOTES)} notes.")
