"""One kept HTTP/1.1 connection for the lean DynamoDB path: a POST written in one send, its answer read.

``http.client`` cost about 0.2 ms of CPU per request on this path (docs/benchmarks.md, fourth round):
the request's headers put one by one and sent apart from the body, the answer's headers parsed by
``email.parser`` into a ``Message``, the response object's state machine. What the lean path needs is
narrower: one POST of a JSON body with headers it made itself, and an answer framed as HTTP/1.1 frames
it (``Content-Length``, or chunks, or up to the connection's end). That is all this does, on a plain
socket (TLS through ``ssl`` with the caller's context): about 0.06 ms a request.

Anything it does not understand raises ``BadAnswer`` (a ``ConnectionError``); the caller drops the
connection and hands the request to botocore, as for any network failure.
"""
from __future__ import annotations

import socket
from typing import Optional

_MAX_LINE = 65536  # http.client's limits: a line, and the headers of one answer
_MAX_HEADERS = 100
_MAX_INTERIM = 10  # 1xx answers before the real one
_HEX_DIGITS = b"0123456789abcdefABCDEF"


class BadAnswer(ConnectionError):
    """The server's answer is not HTTP/1.x as this module reads it."""


class KeptConnection:
    """A socket to one host:port and what is read from it. Not thread-safe: one per thread."""

    def __init__(self, host: str, port: int, *, host_header: str, connect_timeout: Optional[float],
                 read_timeout: Optional[float], tls_context=None):
        sock = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls_context is not None:
                sock = tls_context.wrap_socket(sock, server_hostname=host)
            sock.settimeout(read_timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.host_header = host_header

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, bool]:
        """Send ``POST path`` with ``headers`` (plus Host and Content-Length) and ``body`` in one write;
        answer (status, headers with lower-case names, the last of a repeated one wins, body, whether
        the connection may be used again)."""
        head = "".join([f"POST {path} HTTP/1.1\r\nHost: {self.host_header}\r\n",
                        *(f"{name}: {value}\r\n" for name, value in headers.items()),
                        f"Content-Length: {len(body)}\r\n\r\n"])
        self.sock.sendall(head.encode("latin-1") + body)
        for _ in range(_MAX_INTERIM + 1):
            version, status = self._status_line()
            answer_headers = self._headers()
            if status >= 200:
                break  # 1xx: interim answers (100 Continue unasked for), their headers skipped
        else:
            raise BadAnswer("interim answers without end")
        keep = version == "HTTP/1.1" and "close" not in answer_headers.get("connection", "").lower()
        if status in (204, 304):
            return status, answer_headers, b"", keep
        encoding = answer_headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                return status, answer_headers, self.reader.read(), False  # framed by the connection's end
            return status, answer_headers, self._chunks(), keep
        length = answer_headers.get("content-length")
        if length is None:
            return status, answer_headers, self.reader.read(), False
        length = length.strip()
        if not (length.isascii() and length.isdigit()):
            raise BadAnswer(f"Content-Length {length!r}")
        return status, answer_headers, self._exactly(int(length)), keep

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()

    def _line(self) -> bytes:
        line = self.reader.readline(_MAX_LINE + 1)
        if not line:
            raise BadAnswer("the server closed the connection")
        if len(line) > _MAX_LINE:
            raise BadAnswer("a line too long")
        return line

    def _status_line(self) -> tuple[str, int]:
        parts = self._line().decode("latin-1").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (
                parts[1].isascii() and parts[1].isdigit() and len(parts[1]) == 3):
            raise BadAnswer(f"status line {parts!r}")
        return parts[0], int(parts[1])

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        name = None
        for _ in range(_MAX_HEADERS + 1):
            line = self._line()
            if line in (b"\r\n", b"\n"):
                return headers
            text = line.decode("latin-1")
            if text[0] in " \t" and name is not None:  # an obsolete folded line: the previous value goes on
                headers[name] = f"{headers[name]} {text.strip()}"
                continue
            name, colon, value = text.partition(":")
            if not colon:
                raise BadAnswer(f"header line {text!r}")
            name = name.strip().lower()
            headers[name] = value.strip()
        raise BadAnswer("too many headers")

    def _exactly(self, count: int) -> bytes:
        data = self.reader.read(count)
        if len(data) != count:
            raise BadAnswer(f"{len(data)} of {count} bytes before the connection's end")
        return data

    def _chunks(self) -> bytes:
        parts = []
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            if not size_text or size_text.strip(_HEX_DIGITS):  # (int(text, 16) would take a sign or 0x too)
                raise BadAnswer(f"chunk size {size_text!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            parts.append(self._exactly(size))
            if self._exactly(2) != b"\r\n":
                raise BadAnswer("a chunk not ended by CRLF")
        while self._line() not in (b"\r\n", b"\n"):  # trailers
            pass
        return b"".join(parts)
