"""The fault test's TCP proxy: one `Link` per (process, server), so every
service instance reaches RabbitMQ and PostgreSQL through a port of its own,
and the network between them can be made slow, stalled or cut.

- `latency`: every chunk is held `delay` seconds in each direction (in
  order, pipelined, as a slow network is, not one chunk at a time);
- `stall()`: the connections open now stop moving, without a reset (no FIN,
  no RST: the peer's kernel still acknowledges, as behind a hung middlebox);
  new connections work; `resume()` lets the stalled ones go on;
- `refuse()`: the port is closed and open connections are cut, as when the
  server behind it is stopped (connection refused); `accept()` opens it again
  on the same port (a stopped server started again, its data intact);
- `partition()`: nothing moves, open connections and new ones alike (a new
  connection is accepted and then held, as a SYN that gets no answer would
  be); `heal()` delivers what waited, in order, like TCP after a partition.

All on 127.0.0.1; asyncio in one daemon thread of the fault test.
"""
from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any


class Link:
    """127.0.0.1:<port> forwarding to 127.0.0.1:<upstream>, with faults."""

    def __init__(self, proxy: Proxy, name: str, upstream: int) -> None:
        self.proxy, self.name, self.upstream = proxy, name, upstream
        self.port = 0
        self.delay: tuple[float, float] = (0.0, 0.0)
        self.open = asyncio.Event()
        self.open.set()
        self.connections: set[asyncio.Event] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.accepted = 0
        self.server: asyncio.base_events.Server | None = None

    async def serve(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        flowing = asyncio.Event()        # this connection's own gate (stall)
        flowing.set()
        self.connections.add(flowing)
        try:
            await self.open.wait()       # a partition holds new connections too
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream)
            except OSError:
                return                   # the server is down: the client sees a close
            self.writers.update((client_w, up_w))
            await asyncio.gather(self._pipe(client_r, up_w, flowing),
                                 self._pipe(up_r, client_w, flowing))
        finally:
            self.connections.discard(flowing)
            self.writers.discard(client_w)
            client_w.transport.abort()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                    flowing: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            while True:
                try:
                    data = await src.read(65536)
                except OSError:
                    data = b""
                low, high = self.delay
                await chunks.put((loop.time() + random.uniform(low, high), data))
                if not data:
                    return

        reader = asyncio.ensure_future(read())
        try:
            while True:
                due, data = await chunks.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                while not (self.open.is_set() and flowing.is_set()):
                    await self.open.wait()
                    await flowing.wait()
                if not data:
                    if dst.can_write_eof():
                        dst.write_eof()
                    return
                dst.write(data)
                await dst.drain()
        except OSError:
            return
        finally:
            reader.cancel()

    # -- faults (called from any thread) ------------------------------------------------

    def set_delay(self, low: float, high: float) -> None:
        self.proxy.call(lambda: setattr(self, "delay", (low, high)))

    def stall(self) -> int:
        """Freeze the connections open now; return how many."""
        def freeze() -> int:
            for gate in self.connections:
                gate.clear()
            return len(self.connections)
        return self.proxy.call(freeze)

    def resume(self) -> None:
        self.proxy.call(lambda: [gate.set() for gate in list(self.connections)])

    def refuse(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()
                self.server = None
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        asyncio.run_coroutine_threadsafe(close(), self.proxy.loop).result(10)

    def accept(self) -> None:
        asyncio.run_coroutine_threadsafe(self.serve(), self.proxy.loop).result(10)

    def partition(self) -> None:
        self.proxy.call(self.open.clear)

    def heal(self) -> None:
        self.proxy.call(self.open.set)


class Proxy:
    """The links and the event loop that runs them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.links: dict[str, Link] = {}
        self._thread = threading.Thread(target=self.loop.run_forever, name="tcp-proxy",
                                        daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def link(self, name: str, upstream: int) -> Link:
        """A new listening port for `name` (say "intake-1.amqp") to `upstream`."""
        link = self.call(lambda: Link(self, name, upstream))
        asyncio.run_coroutine_threadsafe(link.serve(), self.loop).result(10)
        self.links[name] = link
        return link

    def of(self, prefix: str) -> list[Link]:
        """The links whose name starts with `prefix` (a process, or a service)."""
        return [link for name, link in self.links.items() if name.startswith(prefix)]

    def of_kind(self, suffix: str) -> list[Link]:
        """The links whose name ends with `suffix` (".s3": every link to the store)."""
        return [link for name, link in self.links.items() if name.endswith(suffix)]

    def stop(self) -> None:
        async def finish() -> None:
            for link in self.links.values():
                if link.server is not None:
                    link.server.close()
                for writer in list(link.writers):
                    writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(finish(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
