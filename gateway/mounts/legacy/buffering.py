"""A legacy request's body, read whole in the event loop before the request takes a turn.

A WSGI view reads its body on its thread, so a client that sends its headers and then
stalls would hold a thread and a turn in the legacy app until the edge's body deadline:
twelve such clients left a plain GET waiting 30 s. Read here first, under the edge's body
limit and idle deadline, a body waits for its client on the event loop, where waiting costs
nothing, and the app is handed only complete requests, as nginx hands them to gunicorn. A
body past ``SPOOL_BYTES`` waits in a temporary file (nginx's ``client_body_buffer_size``
does the same), so a queue of large uploads does not live in memory.

The app then receives the same messages the client's body came in (the same environ: a
chunked body stays chunked), followed by whatever the connection says next, so that a
client leaving during the answer is still seen. A client that leaves before its body is
complete is never handed to the app at all.
"""

from __future__ import annotations

from tempfile import SpooledTemporaryFile

from starlette.types import Message, Receive

# Held in memory up to this; past it, a body waits in a temporary file.
SPOOL_BYTES = 1024 * 1024
# The size of each message a spooled body is handed back in.
CHUNK_BYTES = 64 * 1024


class BufferedBody:
    """The whole body of one request, to be received again by the app."""

    def __init__(
        self,
        receive: Receive,
        *,
        first: Message | None = None,
        spool: SpooledTemporaryFile[bytes] | None = None,
    ) -> None:
        self._receive = receive
        # The body's one message; or the file it was spooled to, handed back in chunks.
        self._first = first
        self._spool = spool
        self._left = 0
        if spool is not None:
            self._left = spool.tell()
            spool.seek(0)

    @classmethod
    async def read(cls, receive: Receive) -> BufferedBody | None:
        """The body, read to its end; None when the client left before sending all of it."""
        message = await receive()
        if message["type"] != "http.request":
            return None
        if not message.get("more_body", False):
            return cls(receive, first=message)  # the common case: one message
        # Outlives this call (the app reads it back): closed by receive() or close().
        spool = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        try:
            while True:
                spool.write(message.get("body", b""))
                if not message.get("more_body", False):
                    return cls(receive, spool=spool)
                message = await receive()
                if message["type"] != "http.request":
                    spool.close()
                    return None
        except BaseException:
            spool.close()
            raise

    async def receive(self) -> Message:
        """The body's messages, then the connection's own (its disconnect)."""
        if self._first is not None:
            first, self._first = self._first, None
            return first
        spool = self._spool
        if spool is not None:
            chunk = spool.read(min(CHUNK_BYTES, self._left))
            self._left -= len(chunk)
            if self._left == 0:
                spool.close()
                self._spool = None
            return {"type": "http.request", "body": chunk, "more_body": self._left > 0}
        return await self._receive()

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
