"""A fake network printer on 127.0.0.1 for tests: records bytes, answers status reads."""

from __future__ import annotations

import socket
import threading
import time

STATUS_ONLINE, STATUS_PAPER = b"\x10\x04\x01", b"\x10\x04\x04"  # DLE EOT 1, DLE EOT 4


class FakePrinter:
    """A TCP printer: records what it gets; answers DLE EOT status queries like an Epson.

    paper: "ok" or "out"; silent: accept but never answer nor read (a hung printer).
    """

    def __init__(self, paper: str = "ok", silent: bool = False) -> None:
        self.paper, self.silent = paper, silent
        self.received = bytearray()
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.05)  # to notice close() between connections
        while not self.stopping:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self.connections += 1
            with conn:
                if self.silent:
                    while not self.stopping:
                        time.sleep(0.02)
                    continue
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        pending = b""
        while chunk := conn.recv(65536):
            self.received += chunk
            pending += chunk
            # Answer each query as soon as it arrives, as the printer would.
            while hits := [
                (pending.find(q), q) for q in (STATUS_ONLINE, STATUS_PAPER) if q in pending
            ]:
                at, query = min(hits)
                conn.sendall(self._answer(query))
                pending = pending[at + len(query) :]
            pending = pending[-2:]  # a query may be split across two reads

    def _answer(self, query: bytes) -> bytes:
        if query == STATUS_ONLINE:
            return b"\x12"  # online: bit 3 clear
        return b"\x72" if self.paper == "out" else b"\x12"  # 0x60: paper end sensor

    @property
    def printed(self) -> bytes:
        return bytes(self.received).replace(STATUS_ONLINE, b"").replace(STATUS_PAPER, b"")

    def close(self) -> None:
        self.stopping = True
        self.server.close()
        self.thread.join(2)
