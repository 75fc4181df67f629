"""Bad-input cases, decoded in a child process so that a crash fails a test
instead of killing the run.

`check_decoders(codec_name, valid_blob)` builds the standard hostile cases
(empty, one byte, truncations, bit flips, random bytes) from one valid blob;
`run_cases(codec_name, cases)` decodes any list of (label, bytes) cases. Each
case must decode or raise an OpencodecsError; anything else (another
exception, a crash, a hang, an allocation over the child's address-space
limit) fails.
"""

import json
import os
import subprocess
import sys

import numpy as np

# The child may map at most this much memory, so a decoder that allocates
# what a lying header claims dies with MemoryError and the test fails.
ADDRESS_SPACE_LIMIT = 6 << 30

_CHILD = r"""
import json, pickle, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import opencodecs as oc
codec_name, opts, cases = pickle.load(sys.stdin.buffer)
codec = oc.get_codec(codec_name)
results = {}
for label, blob in cases:
    sys.stderr.write(label + "\n"); sys.stderr.flush()
    try:
        codec.decode(blob, **opts)
        results[label] = "ok"
    except oc.OpencodecsError as e:
        results[label] = "error:" + type(e).__name__
    except BaseException as e:
        results[label] = "BAD:" + type(e).__name__ + ": " + str(e)[:200]
print(json.dumps(results))
"""


def standard_cases(valid: bytes, seed: int = 0) -> list:
    """Empty, one byte, truncations, bit flips and random bytes around `valid`."""
    rng = np.random.default_rng(seed)
    n = len(valid)
    cases = [("empty", b""), ("one byte", valid[:1]), ("one zero byte", b"\0")]
    for cut in sorted({1, 2, 4, 8, 16, n // 4, n // 2, n - 1}):
        if 0 < cut < n:
            cases.append((f"truncated to {cut}", valid[:cut]))
    for i in range(24):
        pos = int(rng.integers(0, n)) if i >= 8 else min(i, n - 1)
        flipped = bytearray(valid)
        flipped[pos] ^= 1 << int(rng.integers(0, 8))
        cases.append((f"bit flip at {pos}", bytes(flipped)))
    for size in (1, 7, 64, 4096):
        cases.append((f"random {size}", rng.integers(0, 256, size, dtype=np.uint8).tobytes()))
    cases.append(("valid + garbage", valid + rng.integers(0, 256, 32, dtype=np.uint8).tobytes()))
    return cases


def run_cases(codec_name: str, cases: list, opts: dict | None = None, timeout: float = 120) -> dict:
    """Decode every case in a child process; {label: outcome}. Fails on a crash."""
    import pickle
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ADDRESS_SPACE_LIMIT)],
        input=pickle.dumps((codec_name, opts or {}, cases)),
        capture_output=True, timeout=timeout,
        env={**os.environ, "OPENCODECS_NUM_THREADS": "2"})
    if proc.returncode != 0:
        last = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AssertionError(f"{codec_name}: child died (code {proc.returncode}) "
                             f"near case {last[-1] if last else '?'!r}:\n{proc.stderr.decode()[-2000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def assert_no_bad_outcomes(codec_name: str, results: dict, must_fail: tuple = ()) -> None:
    bad = {k: v for k, v in results.items() if v.startswith("BAD:")}
    assert not bad, f"{codec_name}: non-opencodecs failures: {bad}"
    passed = [k for k in must_fail if results[k] == "ok"]
    assert not passed, f"{codec_name}: accepted invalid input: {passed}"


def check_decoders(codec_name: str, valid: bytes, opts: dict | None = None,
                   must_fail: tuple = ("empty", "one byte"), extra: list = ()) -> dict:
    """Run the standard cases plus `extra`; those labelled in `must_fail` must raise."""
    results = run_cases(codec_name, standard_cases(valid) + list(extra), opts)
    assert_no_bad_outcomes(codec_name, results, must_fail)
    return results


_GUARDED_CHILD = r"""
import ctypes, mmap, pickle, sys
import opencodecs as oc
libc = ctypes.CDLL(None)
codec_name, opts, blobs = pickle.load(sys.stdin.buffer)
codec = oc.get_codec(codec_name)
for blob in blobs:
    # The input ends where an unreadable page starts: reading past it crashes.
    size = -(-len(blob) // mmap.PAGESIZE) * mmap.PAGESIZE
    region = mmap.mmap(-1, size + mmap.PAGESIZE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    assert libc.mprotect(ctypes.c_void_p(address + size), mmap.PAGESIZE, 0) == 0
    region[size - len(blob):size] = blob
    try:
        codec.decode(memoryview(region)[size - len(blob):size], **opts)
    except oc.OpencodecsError:
        pass
print("done")
"""


def check_no_overread(codec_name: str, blobs: list, opts: dict | None = None) -> None:
    """Decode each blob placed right before an unreadable page, in a child
    process: a decoder reading one byte past its input crashes the child."""
    import pickle
    proc = subprocess.run([sys.executable, "-c", _GUARDED_CHILD],
                          input=pickle.dumps((codec_name, opts or {}, blobs)),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == b"done", \
        f"{codec_name}: child died (code {proc.returncode}):\n{proc.stderr.decode()[-2000:]}"
