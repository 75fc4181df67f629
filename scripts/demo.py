"""`make demo`: the capability table, then a round trip through every codec."""

import time

import numpy as np

import opencodecs as oc
from opencodecs.cli import capability_table


def microscopy_tile(shape=(1024, 1024), seed=0):
    """Smooth uint16 signal with shot noise, like a fluorescence tile."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    signal = 200 + 1500 * np.exp(-(((y - 400) / 180.0) ** 2 + ((x - 600) / 250.0) ** 2))
    return rng.poisson(signal).astype(np.uint16)


def main():
    print(capability_table())
    image = microscopy_tile()
    data = image.tobytes()
    print(f"\nRound trip of a {image.shape} uint16 image ({len(data) / 2**20:.1f} MiB):\n")
    print(f"{'codec':<12} {'encoded':>12} {'ratio':>7} {'encode':>10} {'decode':>10}  exact")
    failures = 0
    for codec in oc.list_codecs():
        if not codec.has_native and codec._native is not None:
            print(f"{codec.name:<12} unavailable: built without {codec.library}")
            continue
        opts = {"itemsize": 2} if codec.name == "bitshuffle" else {}
        t0 = time.perf_counter()
        blob = codec.encode(image, **opts)
        t1 = time.perf_counter()
        back = codec.decode(blob, **opts)
        t2 = time.perf_counter()
        exact = bytes(back) == data
        failures += not exact
        print(f"{codec.name:<12} {len(blob):>12,} {len(data) / max(len(blob), 1):>7.2f} "
              f"{(t1 - t0) * 1e3:>8.1f}ms {(t2 - t1) * 1e3:>8.1f}ms  {'yes' if exact else 'NO'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
