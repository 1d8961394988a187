"""A fake network printer on 127.0.0.1 for tests: records bytes, answers status reads.

It behaves as the printers a centre meets do: one that answers DLE EOT like an Epson,
one out of paper, one whose paper runs out during a job, one offline (cover open), one
that reads but never answers a status query (no status support), one that accepts the
connection and then never reads at all (hung), a slow one that answers late, and one that
stops reading in the middle of its first job until it is told to go on (held).
"""

from __future__ import annotations

import socket
import threading
import time

STATUS_ONLINE, STATUS_PAPER = b"\x10\x04\x01", b"\x10\x04\x04"  # DLE EOT 1, DLE EOT 4
QUERIES = (STATUS_ONLINE, STATUS_PAPER)
# Answers with Epson's fixed bits (1 and 4 set): 0x08 is "offline", 0x60 "paper end".
ONLINE, OFFLINE, PAPER_OK, PAPER_END = 0x12, 0x1A, 0x12, 0x72


class FakePrinter:
    """A TCP printer: records what it gets; answers DLE EOT status queries like an Epson.

    paper: "ok", "out", or "ends" (in until the first bytes of a job arrive, then out);
    online: False answers every status query "offline";
    silent: accept but never read nor answer (a hung printer; bytes pile up in buffers);
    mute: read everything, answer nothing (a printer without status support);
    delay: seconds before each answer (a slow printer);
    held: once it has answered the status asked before a first job (online, then paper),
    read nothing more until `go_on()`: the job stuck halfway, its sender waiting.
    """

    def __init__(
        self,
        paper: str = "ok",
        silent: bool = False,
        *,
        online: bool = True,
        mute: bool = False,
        delay: float = 0.0,
        held: bool = False,
    ) -> None:
        self.paper, self.online, self.delay = paper, online, delay
        self.holding = threading.Event()
        if held:
            self.holding.set()
        self.silent, self.mute = silent, mute
        self.received = bytearray()
        self.connections = 0
        self.answered = 0  # status queries answered
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}?profile=TM-T20II"
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
                try:
                    self._talk(conn)
                except OSError:  # the client gave up on us: wait for the next one
                    continue

    def _talk(self, conn: socket.socket) -> None:
        pending = b""
        while chunk := conn.recv(65536):
            self.received += chunk
            pending += chunk
            # Answer each query as soon as it arrives, as the printer would.
            while hits := [(pending.find(q), q) for q in QUERIES if q in pending]:
                at, query = min(hits)
                if self.paper == "ends" and pending[:at]:
                    self.paper = "out"  # a job's bytes came before this query
                if not self.mute:
                    time.sleep(self.delay)
                    conn.sendall(bytes([self._answer(query)]))
                    self.answered += 1
                while self.holding.is_set() and self.answered >= 2 and not self.stopping:
                    time.sleep(0.02)
                pending = pending[at + len(query) :]
            if self.paper == "ends" and len(pending) > 2:
                self.paper = "out"
            pending = pending[-2:]  # a query may be split across two reads

    def _answer(self, query: bytes) -> int:
        if query == STATUS_ONLINE:
            return OFFLINE if not self.online or self.paper == "out" else ONLINE
        return PAPER_END if self.paper == "out" else PAPER_OK

    def go_on(self) -> None:
        """A held printer reads again: what piled up in its buffers, then the rest."""
        self.holding.clear()

    @property
    def printed(self) -> bytes:
        return bytes(self.received).replace(STATUS_ONLINE, b"").replace(STATUS_PAPER, b"")

    def close(self) -> None:
        self.stopping = True
        self.server.close()
        self.thread.join(2)
