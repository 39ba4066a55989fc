"""``store/lean_http.py``: the lean path's POST is the request ``http.client`` sends, and its answers
are read as HTTP/1.1 frames them (length, chunks, the connection's end, interim answers)."""
from __future__ import annotations

import http.client
import socket
import threading

import pytest

from chalicelib.store.lean_http import BadAnswer, KeptConnection

HEADERS = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query",
           "X-Amz-Date": "20260601T093000Z", "Accept-Encoding": "identity", "Authorization": "AWS4-HMAC-SHA256 x"}
BODY = '{"TableName":"t","Key":{"pk":{"S":"ї"}}}'.encode()


class CannedServer:
    """A one-connection server on loopback: records each request it reads and answers the next
    canned bytes."""

    def __init__(self, answers: list[bytes], tls=None):
        self.answers = list(answers)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls = tls
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        if self.tls is not None:
            try:
                connection = self.tls.wrap_socket(connection, server_side=True)
            except OSError:  # the client refused our certificate (ssl.SSLError is an OSError)
                connection.close()
                return
        reader = connection.makefile("rb")
        with connection, reader:
            while self.answers:
                request_line = reader.readline()
                if not request_line:
                    return
                headers = {}
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", "0")))
                self.requests.append((request_line.decode("latin-1").strip(), headers, body))
                connection.sendall(self.answers.pop(0))

    def close(self) -> None:
        self.listener.close()


def _exchange(*answers: bytes) -> tuple[list, CannedServer]:
    server = CannedServer(list(answers))
    kept = KeptConnection("127.0.0.1", server.port, host_header=f"127.0.0.1:{server.port}", connect_timeout=5,
                          read_timeout=5)
    try:
        return [kept.post("/", BODY, HEADERS) for _ in answers], server
    finally:
        kept.close()
        server.close()


def test_the_post_is_the_request_http_client_sends():
    server = CannedServer([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"] * 2)
    ours = KeptConnection("127.0.0.1", server.port, host_header=f"127.0.0.1:{server.port}", connect_timeout=5,
                          read_timeout=5)
    ours.post("/", BODY, HEADERS)
    ours.close()
    server.thread.join(5)
    theirs_server = CannedServer([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"])
    theirs = http.client.HTTPConnection("127.0.0.1", theirs_server.port, timeout=5)
    theirs.request("POST", "/", BODY, HEADERS)
    assert theirs.getresponse().read() == b"{}"
    theirs.close()
    (our_line, our_headers, our_body), = server.requests
    (their_line, their_headers, their_body), = theirs_server.requests
    assert our_line == their_line == "POST / HTTP/1.1"
    assert our_body == their_body == BODY
    # the same headers; Host with the port, as http.client (and the signature) name a non-default one
    assert our_headers.pop("host") == f"127.0.0.1:{server.port}"
    assert their_headers.pop("host") == f"127.0.0.1:{theirs_server.port}"
    assert our_headers == their_headers


def test_answers_framed_by_length_and_by_chunks_on_one_kept_connection():
    answers, server = _exchange(
        b"HTTP/1.1 200 OK\r\nx-amzn-RequestId: R1\r\nX-Amz-Crc32: 1\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"b\"\r\n3\r\n:2}\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}")
    assert answers == [(200, {"x-amzn-requestid": "R1", "x-amz-crc32": "1", "content-length": "7"}, b'{"a":1}', True),
                       (200, {"transfer-encoding": "chunked"}, b'{"b":2}', True),
                       (400, {"content-length": "2"}, b"{}", True)]
    assert len(server.requests) == 3  # all three on the one connection


def test_an_interim_answer_is_skipped_and_a_folded_header_joined():
    (answer,), _ = _exchange(b"HTTP/1.1 100 Continue\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nX-Long: first\r\n  second\r\nContent-Length: 0\r\n\r\n")
    assert answer == (200, {"x-long": "first second", "content-length": "0"}, b"", True)


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\n\r\n{}"])  # no length: the body ends with the connection
def test_an_answer_that_closes_the_connection_is_not_kept(answer):
    server = CannedServer([answer])
    kept = KeptConnection("127.0.0.1", server.port, host_header="h", connect_timeout=5, read_timeout=5)
    try:  # (the server closes its side after its last answer)
        assert kept.post("/", BODY, HEADERS)[2:] == (b"{}", False)
    finally:
        kept.close()
        server.close()


@pytest.mark.parametrize("answer", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",  # shorter than it says
    b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n{}",  # a digit to str.isdigit, not to HTTP
    b"HTTP/1.1 100 Continue\r\n\r\n" * 12 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n",  # int(, 16) reads a sign
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n",  # and a 0x
    b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n",
    b""])
def test_what_is_not_http_raises_bad_answer(answer):
    server = CannedServer([answer])
    kept = KeptConnection("127.0.0.1", server.port, host_header="h", connect_timeout=5, read_timeout=5)
    try:
        with pytest.raises(BadAnswer):
            kept.post("/", BODY, HEADERS)
    finally:
        kept.close()
        server.close()


def _self_signed(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, valid from 2000 to 9999 (whatever today is)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1)
                   .not_valid_before(datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
                   .not_valid_after(datetime.datetime(9999, 12, 31, tzinfo=datetime.timezone.utc))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_over_tls_the_certificate_is_checked_against_the_ca_bundle_given(tmp_path):
    """HTTPS, as DynamoDB is reached: the server's certificate verified with the client's CA bundle
    (botocore's, or the one it was given) and its name checked; a server the bundle does not vouch for
    is refused before anything is sent."""
    import ssl

    cert, key = _self_signed(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    server = CannedServer([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"], tls=server_side)
    kept = KeptConnection("127.0.0.1", server.port, host_header="127.0.0.1", connect_timeout=5, read_timeout=5,
                          tls_context=ssl.create_default_context(cafile=cert))
    try:
        assert kept.post("/", BODY, HEADERS) == (200, {"content-length": "2"}, b"{}", True)
        assert server.requests[0][2] == BODY
    finally:
        kept.close()
        server.close()

    stranger = CannedServer([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"], tls=server_side)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            KeptConnection("127.0.0.1", stranger.port, host_header="127.0.0.1", connect_timeout=5, read_timeout=5,
                           tls_context=ssl.create_default_context())  # the system's CAs: not this server's
        assert stranger.requests == []
    finally:
        stranger.close()
