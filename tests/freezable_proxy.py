"""A TCP relay on loopback that can stop relaying: a database server as a frozen one looks.

While frozen it accepts connections and keeps them open but moves no byte either way, as a
PostgreSQL that is stopped, swapped out or cut off behind a firewall looks to its clients.
``freeze()`` takes effect when it returns: no byte sent after it gets through, so a test's
next request meets a frozen server, never one that still answers a last query.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_POLL_SECONDS = 0.05


class FreezableProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.frozen = threading.Event()
        # Held while bytes move, so that freezing waits for a move under way to finish.
        self._moving = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address: tuple[str, int] = self._listener.getsockname()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        self._listener.settimeout(_POLL_SECONDS)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            self._sockets += [client, upstream]
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def freeze(self) -> None:
        with self._moving:
            self.frozen.set()

    def thaw(self) -> None:
        self.frozen.clear()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._stop.is_set():
            if self.frozen.is_set():
                self._stop.wait(_POLL_SECONDS)  # hold everything: read nothing, send nothing
                continue
            readable, _, _ = select.select([source], [], [], _POLL_SECONDS)
            if not readable:
                continue
            with self._moving:
                if self.frozen.is_set():  # frozen while this pump waited: the bytes stay
                    continue
                try:
                    data = source.recv(65536)
                    if not data:
                        break
                    sink.sendall(data)
                except OSError:
                    break
        for sock in (source, sink):
            with suppress(OSError):  # the other pump may have shut it already
                sock.shutdown(socket.SHUT_RDWR)

    @contextmanager
    def running(self) -> Iterator[FreezableProxy]:
        self._spawn(self._accept)
        try:
            yield self
        finally:
            self._stop.set()
            for thread in self._threads:
                thread.join(timeout=5)
            for sock in [*self._sockets, self._listener]:
                sock.close()
