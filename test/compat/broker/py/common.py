"""Helpers shared by the scripts that drive the samsa broker with Python clients (see ../scenario.ts).

Each script reads its spec as JSON on stdin and prints one JSON object on stdout; bytes travel as base64, null as
null. A record is printed as [partition, offset, timestamp, key, value, [[header name, header value], ...]].
"""
import base64
import json
import sys
import time


def read_spec():
    return json.load(sys.stdin)


def b(x):
    """base64 (or None) -> bytes (or None)"""
    return None if x is None else base64.b64decode(x)


def s(x):
    """bytes (or None) -> base64 (or None)"""
    return None if x is None else base64.b64encode(x).decode('ascii')


def rec(partition, offset, timestamp, key, value, headers):
    return [partition, offset, timestamp, s(key), s(value), [[k, s(v)] for k, v in (headers or [])]]


def headers_in(m):
    return [(k, b(v)) for k, v in m['headers']]


class Deadline:
    def __init__(self, seconds):
        self.at = time.monotonic() + seconds

    def left(self):
        return self.at - time.monotonic()

    def passed(self):
        return self.left() <= 0


def emit(result):
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')
    sys.stdout.flush()
