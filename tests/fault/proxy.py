"""A small asyncio TCP proxy the fault test puts between the services and the broker, so it can
cut their network to Kafka without touching the broker or the services.

tansu advertises the proxy's address in its metadata, so every connection a service opens
(bootstrap, then the broker it was told about) goes through here. `cut()` closes every live
connection and then either refuses new ones (accepted and closed at once, as a broker that went
away) or holds them (accepted, never answered, as a network partition) until `restore()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Literal

CutMode = Literal["refuse", "hold"]


@dataclass
class ProxyStats:
    """What the proxy saw, for the test's summary."""

    accepted: int = 0
    refused: int = 0
    held: int = 0
    cuts: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    cut_seconds: float = 0.0
    _cut_at: float | None = field(default=None, repr=False)


class TcpProxy:
    """Listens on `listen_port` and pipes each connection to `target_host:target_port`."""

    def __init__(
        self, listen_port: int, target_port: int, host: str = "127.0.0.1", target_host: str = ""
    ) -> None:
        self.host = host
        self.listen_port = listen_port
        self.target_host = target_host or host
        self.target_port = target_port
        self.stats = ProxyStats()
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._open = asyncio.Event()
        self._open.set()
        self._mode: CutMode = "refuse"
        # seconds each chunk from the broker is held back: acknowledgements arrive late while
        # what the clients sent is already on the broker
        self.down_delay = 0.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.listen_port}"

    @property
    def is_cut(self) -> bool:
        return not self._open.is_set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)

    async def stop(self) -> None:
        self._open.set()
        if self._server:
            self._server.close()
        self._close_live()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def cut(self, mode: CutMode = "refuse") -> None:
        """Close every live connection; until `restore()`, refuse or hold new ones."""
        self._mode = mode
        self._open.clear()
        self.stats.cuts += 1
        self.stats._cut_at = asyncio.get_running_loop().time()
        self._close_live()

    def restore(self) -> None:
        """Pipe again: held connections are connected to the broker, new ones too."""
        if self.stats._cut_at is not None:
            self.stats.cut_seconds += asyncio.get_running_loop().time() - self.stats._cut_at
            self.stats._cut_at = None
        self._open.set()

    def _close_live(self) -> None:
        for writer in list(self._live):
            with contextlib.suppress(Exception):
                transport = writer.transport
                transport.abort()  # RST, like a broken link, rather than a polite FIN
        self._live.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.is_cut:
                if self._mode == "refuse":
                    self.stats.refused += 1
                    writer.transport.abort()
                    return
                self.stats.held += 1
                await self._open.wait()  # a partition: the client waits, unanswered
                if writer.is_closing() or reader.at_eof():
                    writer.transport.abort()
                    return
            await self._pipe(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.stats.accepted += 1
        self._live.add(writer)
        self._live.add(up_writer)
        try:
            await asyncio.gather(
                self._copy(reader, up_writer, up=True),
                self._copy(up_reader, writer, up=False),
            )
        finally:
            for w in (writer, up_writer):
                self._live.discard(w)
                with contextlib.suppress(Exception):
                    w.transport.abort()

    async def _copy(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, up: bool
    ) -> None:
        try:
            while chunk := await src.read(65536):
                if up:
                    self.stats.bytes_up += len(chunk)
                else:
                    self.stats.bytes_down += len(chunk)
                    if self.down_delay:
                        await asyncio.sleep(self.down_delay)
                dst.write(chunk)
                await dst.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # one side ended: end the other too, so neither end waits on a half-open pair
            with contextlib.suppress(Exception):
                dst.transport.abort()
