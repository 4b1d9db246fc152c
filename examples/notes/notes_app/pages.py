"""The HTML pages: the signed-in user's notes, one note, and the form for a new one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from notes_app.db import db
from notes_app.forms import NoteForm
from notes_app.guards import login_required
from notes_app.models import Note, notes_of, own_note_or_404

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("pages.list_notes"))


@bp.get("/notes")
@login_required
def list_notes() -> ResponseReturnValue:
    notes = db.session.scalars(notes_of(current_user.id)).all()
    return render_template("pages/notes.html", notes=notes)


@bp.route("/notes/new", methods=["GET", "POST"])
@login_required
def new_note() -> ResponseReturnValue:
    form = NoteForm()
    if form.validate_on_submit():
        note = Note(owner_id=current_user.id, title=form.title.data, body=form.body.data or "")
        db.session.add(note)
        db.session.commit()
        flash("Note saved.")
        # Redirect after POST, so reloading the page does not post the note twice.
        return redirect(url_for("pages.show_note", note_id=note.id))
    return render_template("pages/note_form.html", form=form)


@bp.get("/notes/<int:note_id>")
@login_required
def show_note(note_id: int) -> ResponseReturnValue:
    note = own_note_or_404(owner_id=current_user.id, note_id=note_id)
    return render_template("pages/note.html", note=note)
