"""The fault test's TCP proxy against a real echo server on 127.0.0.1: it
forwards, delays in order, stalls open connections without a reset while new
ones flow, holds everything during a partition and delivers it on healing,
and refuses connections while its server is "stopped".

Marked `integration` so that CI runs it on Python 3.11 only: in this test
process eventlet has patched `threading`, `select` and `socket` (the root
conftest), and on 3.12 the proxy's asyncio loop hangs under those patches.
The fault test's driver, where the proxy really runs, patches nothing."""
import socket
import socketserver
import threading
import time

import pytest

from scripts.fault_proxy import Proxy

pytestmark = pytest.mark.integration


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def link():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = Proxy()
    yield proxy.link("svc-1.echo", server.server_address[1])
    proxy.stop()
    server.shutdown()
    server.server_close()


def connect(link, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", link.port), timeout=timeout)
    return sock


def echo(sock, data=b"ping"):
    sock.sendall(data)
    return sock.recv(100)


def test_forwards_and_delays_each_direction_in_order(link):
    with connect(link) as sock:
        assert echo(sock) == b"ping"
        link.set_delay(0.3, 0.3)
        began = time.monotonic()
        sock.sendall(b"a")
        sock.sendall(b"b")
        got = b""
        while len(got) < 2:
            got += sock.recv(10)
        assert got == b"ab"
        assert time.monotonic() - began >= 0.6       # 0.3 s there, 0.3 s back


def test_a_stall_freezes_open_connections_without_a_reset_while_new_ones_flow(link):
    with connect(link, timeout=0.5) as old:
        assert echo(old) == b"ping"
        assert link.stall() == 1
        old.sendall(b"held")
        with pytest.raises(socket.timeout):         # no answer, and no reset either
            old.recv(100)
        with connect(link) as new:
            assert echo(new, b"new") == b"new"
        link.resume()
        old.settimeout(5)
        assert old.recv(100) == b"held"


def test_a_partition_holds_every_connection_and_heals_in_order(link):
    with connect(link, timeout=0.5) as old:
        assert echo(old) == b"ping"
        link.partition()
        old.sendall(b"1")
        late = connect(link, timeout=0.5)          # accepted, then held: no answer
        late.sendall(b"2")
        for sock in (old, late):
            with pytest.raises(socket.timeout):
                sock.recv(100)
        link.heal()
        for sock, expected in ((old, b"1"), (late, b"2")):
            sock.settimeout(5)
            assert sock.recv(100) == expected
        late.close()


def test_refuse_cuts_connections_and_refuses_new_ones_until_accepting_again(link):
    with connect(link) as old:
        assert echo(old) == b"ping"
        link.refuse()
        assert old.recv(100) == b""                 # cut
    with pytest.raises(ConnectionRefusedError):
        connect(link)
    link.accept()
    with connect(link) as sock:
        assert echo(sock) == b"ping"
