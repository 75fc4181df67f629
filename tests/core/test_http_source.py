"""HTTPSource against a real range server (nginx on loopback)."""

import numpy as np
import pytest

import opencodecs as oc
from opencodecs.core.sources import HTTPSource, open_source

DATA = np.random.default_rng(5).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()


def _requests(log):
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def served(http_server):
    base, root, log = http_server
    (root / "data.bin").write_bytes(DATA)
    return f"{base}/data.bin", log


def test_size_and_ranges(served):
    url, _ = served
    with open_source(url) as src:
        assert isinstance(src, HTTPSource)
        assert src.size == len(DATA)
        assert bytes(src.read_at(1000, 5000)) == DATA[1000:6000]
        assert bytes(src.read_at(len(DATA) - 3, 3)) == DATA[-3:]
        with pytest.raises(oc.DecodeError):
            src.read_at(len(DATA) - 3, 4)


def test_read_many_coalesces_nearby_ranges(served):
    url, log = served
    with HTTPSource(url, max_workers=4) as src:
        ranges = [(i * 4096, 1000) for i in range(64)] + [(900_000, 10), (5, 5)]
        before = _requests(log)
        views = src.read_many(ranges)
        assert [bytes(v) for v in views] == [DATA[o:o + n] for o, n in ranges]
        # 64 ranges 3 KiB apart form one span; 900_000 is another.
        assert _requests(log) - before == 2


def test_missing_file(http_server):
    base, _, _ = http_server
    with pytest.raises(FileNotFoundError):
        HTTPSource(f"{base}/nope.bin")


def test_oc_read_of_a_url(http_server):
    base, root, _ = http_server
    oc.write(root / "x.zst", DATA)
    assert oc.read(f"{base}/x.zst", format="zstd") == DATA
