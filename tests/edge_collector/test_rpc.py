"""The CGMiner RPC client: framing, repairs, text form, joins, and every way a miner misbehaves."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest

from edge_collector.rpc import (
    CgminerClient,
    MinerError,
    check_status,
    decode_json_reply,
    decode_text_reply,
    status_of,
)
from edge_collector.wire import ErrorClass


def test_json_reply_with_nul_and_old_bmminer_missing_comma():
    raw = b'{"STATUS":[{"STATUS":"S","Code":70}],"STATS":[{"BMMiner":"1"}{"STATS":0,"x":1}],"id":1}'
    reply = decode_json_reply(raw + b"\0")
    assert reply["STATS"][1]["x"] == 1


def test_btminer_trailing_comma_and_avalon_bare_nan_are_repaired():
    assert decode_json_reply(b'{"a":1,"b":{"c":2,},}')["b"] == {"c": 2}
    assert decode_json_reply(b'{"MHS":nan,"T":[inf,1]}') == {"MHS": None, "T": [None, 1]}


def test_unreadable_replies_are_classified():
    with pytest.raises(MinerError) as info:
        decode_json_reply(b'{"STATUS":[{"STA', complete=False)
    assert info.value.error_class is ErrorClass.TRUNCATED
    with pytest.raises(MinerError) as info:
        decode_json_reply(b"\x00\xffgarbage")
    assert info.value.error_class is ErrorClass.MALFORMED
    with pytest.raises(MinerError):
        decode_json_reply(b"[1,2]")


def test_text_reply_with_escapes_and_multi_records():
    raw = (
        b"STATUS=S,When=1,Code=7,Msg=2 Pool(s),Description=cgminer 4.10.0|"
        b"POOL=0,URL=stratum+tcp://a\\,b:3333,User=w\\=1,Status=Alive|"
        b"POOL=1,URL=stratum+tcp://c:3333,User=w2,Status=Dead|\0"
    )
    reply = decode_text_reply(raw)
    assert status_of(reply) == ("S", 7, "2 Pool(s)")
    assert [p["URL"] for p in reply["POOLS"]] == ["stratum+tcp://a,b:3333", "stratum+tcp://c:3333"]
    assert reply["POOLS"][0]["User"] == "w=1"


def test_joined_text_reply():
    raw = (
        b"CMD=summary|STATUS=S,Code=11,Msg=Summary|SUMMARY,Elapsed=5,MHS av=1.00|"
        b"CMD=version|STATUS=S,Code=22|VERSION,CGMiner=4.10.0|"
    )
    reply = decode_text_reply(raw)
    assert reply["summary"][0]["SUMMARY"][0]["Elapsed"] == "5"
    assert reply["version"][0]["VERSION"][0]["CGMiner"] == "4.10.0"


def test_status_shapes_and_errors():
    assert status_of({"STATUS": "RESTART", "id": 1})[0] == "RESTART"
    assert status_of({"STATUS": "S", "Code": 131, "Msg": {"a": 1}})[:2] == ("S", 131)
    denied = {"STATUS": [{"STATUS": "E", "Code": 45, "Msg": "Access denied to 'x' command"}]}
    with pytest.raises(MinerError) as info:
        check_status(denied, "x")
    assert info.value.error_class is ErrorClass.ACCESS_DENIED
    with pytest.raises(MinerError) as info:
        check_status({"STATUS": [{"STATUS": "E", "Code": 14, "Msg": "Invalid command"}]}, "y")
    assert info.value.error_class is ErrorClass.UNSUPPORTED


class RawServer:
    """A one-address TCP server whose answer the test chooses: bytes, hang, or reset."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    request = conn.recv(4096)
                except OSError:
                    continue
                self.requests.append(request)
                action = self.behaviour(request)
                if action == "hang":
                    self.stop.wait(3)
                elif action == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                else:
                    try:
                        conn.sendall(action)
                    except OSError:
                        pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def raw_server():
    servers = []

    def make(behaviour):
        server = RawServer(behaviour)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _ask(server, **kwargs):
    client = CgminerClient(port=server.port, timeout=kwargs.pop("timeout", 1.0), **kwargs)
    return asyncio.run(client.command("127.0.0.1", "summary"))


@pytest.mark.parametrize(
    ("answer", "error_class"),
    [
        ("hang", ErrorClass.TIMEOUT),
        ("reset", ErrorClass.RESET),
        (b'{"STATUS":[{"STATUS":"S"', ErrorClass.TRUNCATED),
        (b"\x13\x37 not json at all\0", ErrorClass.MALFORMED),
        (b'{"STATUS":[' + b'{"x":1},' * 20000, ErrorClass.OVERSIZED),
        (b"", ErrorClass.TRUNCATED),
    ],
)
def test_misbehaving_miner_gives_a_classified_error(raw_server, answer, error_class):
    server = raw_server(lambda request: answer)
    with pytest.raises(MinerError) as info:
        _ask(server, timeout=0.5, max_reply=64 * 1024)
    assert info.value.error_class is error_class


def test_nothing_listening_is_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = CgminerClient(port=port, timeout=1)
    with pytest.raises(MinerError) as info:
        asyncio.run(client.command("127.0.0.1", "summary"))
    assert info.value.error_class is ErrorClass.REFUSED


def test_reply_without_nul_but_closed_is_accepted(raw_server):
    server = raw_server(lambda request: b'{"STATUS":[{"STATUS":"S","Code":11}],"SUMMARY":[{}]}')
    assert _ask(server)["SUMMARY"] == [{}]


def test_join_refused_falls_back_to_one_connection_per_command(raw_server):
    def behaviour(request):
        command = json.loads(request)["command"]
        if "+" in command:
            return b'{"STATUS":[{"STATUS":"E","Code":14,"Msg":"Invalid command"}],"id":1}\0'
        body = {"STATUS": [{"STATUS": "S", "Code": 1}], command.upper(): [{"n": command}]}
        return json.dumps(body).encode() + b"\0"

    server = raw_server(behaviour)
    client = CgminerClient(port=server.port, timeout=1)
    results, joined = asyncio.run(client.report("127.0.0.1", ["summary", "pools"]))
    assert not joined
    assert results["pools"]["POOLS"] == [{"n": "pools"}]
    assert [json.loads(r)["command"] for r in server.requests] == [
        "summary+pools",
        "summary",
        "pools",
    ]


def test_join_with_one_denied_section_keeps_the_others(raw_server):
    ok = {"STATUS": [{"STATUS": "S"}], "SUMMARY": [{"Elapsed": 1}], "id": 1}
    denied = {"STATUS": [{"STATUS": "E", "Code": 45, "Msg": "Access denied"}], "id": 1}
    body = json.dumps({"summary": [ok], "devdetails": [denied], "id": 1}).encode() + b"\0"
    server = raw_server(lambda request: body)
    client = CgminerClient(port=server.port, timeout=1)
    results, joined = asyncio.run(client.report("127.0.0.1", ["summary", "devdetails"]))
    assert joined and results["summary"]["SUMMARY"] == [{"Elapsed": 1}]
    assert results["devdetails"].error_class is ErrorClass.ACCESS_DENIED
    assert len(server.requests) == 1


def test_dead_miner_costs_one_timeout_not_three(raw_server):
    server = raw_server(lambda request: "hang")
    client = CgminerClient(port=server.port, timeout=0.3)
    results, _ = asyncio.run(client.report("127.0.0.1", ["summary", "stats", "pools"]))
    assert {r.error_class for r in results.values()} == {ErrorClass.TIMEOUT}
    assert len(server.requests) == 1
