from flask import Blueprint

bp = Blueprint("tags", __name__, url_prefix="/api")
