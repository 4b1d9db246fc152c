"""What the gateway and a legacy process say to each other over their local socket.

One connection carries one request. The process, once it accepts the connection, sends
``READY``: the request has its turn. The gateway then sends the request, complete (its body
was read in the event loop first): a ``REQUEST`` frame holding the WSGI environ, the body in
``BODY`` frames, and ``END``. The process answers with ``START`` (status and headers), the
body in ``BODY`` frames and ``END``; or ``LAST``, a body that is the whole answer (its
declared ``Content-Length``), which needs no ``END``; or ``FAILED`` when the app raised before
it started its answer. A process that goes away mid-answer just closes the connection: the
client must see the answer cut short, never a short answer that looks complete.

A frame is a kind (one byte), a length (four bytes, network order) and that many bytes.
Structured frames are JSON: the environ is plain strings (what a WSGI server builds from the
request), so nothing that could run code on the other side is ever decoded.
"""

from __future__ import annotations

import json
import struct
from typing import Any

READY = b"R"
REQUEST = b"Q"
BODY = b"B"
END = b"E"
START = b"S"
LAST = b"L"
FAILED = b"X"

HEADER = struct.Struct("!cI")

# The environ keys a process sets for itself: its own input, error stream and WSGI flags.
OWN_KEYS = frozenset(
    {
        "wsgi.input",
        "wsgi.errors",
        "wsgi.version",
        "wsgi.multithread",
        "wsgi.multiprocess",
        "wsgi.run_once",
        "wsgi.input_terminated",
        "asgi.scope",
    }
)


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def json_frame(kind: bytes, value: Any) -> bytes:
    return frame(kind, json.dumps(value, separators=(",", ":")).encode())


def portable_environ(environ: dict[str, Any]) -> dict[str, str]:
    """The request's part of an environ: every string the server derived from the request."""
    return {k: v for k, v in environ.items() if k not in OWN_KEYS and isinstance(v, str)}
