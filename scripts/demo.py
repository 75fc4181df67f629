"""`make demo`: the capability table, then a round trip through every codec.

Each codec gets the first sample it can encode (a uint16 microscopy tile, an
RGB photo, a float32 field, an HDR image); containers go through a file.
Lossless results must come back bit-exact; lossy ones show their PSNR.
"""

import os
import sys
import tempfile
import time

import numpy as np

import opencodecs as oc
from opencodecs.cli import capability_table

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from bench.data import microscopy_u16, photo_rgb  # noqa: E402

SAMPLES = {
    "uint16 microscopy": microscopy_u16((512, 512)),
    "RGB photo": photo_rgb((512, 512)),
    "float32 field": np.cumsum(np.random.default_rng(0).normal(0, 1, (16, 64, 64)), axis=2).astype(np.float32),
    "float16 HDR": (photo_rgb((256, 256)).astype(np.float16) / 64),
    "float32 RGB HDR": (photo_rgb((256, 256)).astype(np.float32) / 64),
}
OPTIONS = {"sz3": {"error_bound": 1e-3}}


def psnr(a, b) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    mse = np.mean((a - b) ** 2)
    peak = max(float(np.abs(a).max()), 1.0)
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def round_trip(codec, data, folder):
    opts = OPTIONS.get(codec.name, {})
    if codec.multi_frame or codec.chunked:  # containers: through a file
        path = os.path.join(folder, "demo" + (codec.file_extensions or (".bin",))[0])
        t0 = time.perf_counter()
        oc.write(path, data, format=codec.name, **opts)
        t1 = time.perf_counter()
        back = oc.read(path, format=codec.name)
        return os.path.getsize(path), t1 - t0, time.perf_counter() - t1, back
    t0 = time.perf_counter()
    blob = codec.encode(data, **opts)
    t1 = time.perf_counter()
    back = codec.decode(blob, **({"itemsize": data.itemsize} if codec.name in ("bitshuffle", "byteshuffle") else {}))
    return len(blob), t1 - t0, time.perf_counter() - t1, back


def main() -> int:
    print(capability_table(builds=True))
    print(f"\nRound trips ({', '.join(f'{k} {v.shape} {v.dtype}' for k, v in SAMPLES.items())}):\n")
    print(f"{'codec':<12} {'sample':<18} {'encoded':>11} {'ratio':>6} {'encode':>9} {'decode':>9}  result")
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for codec in oc.list_codecs():
            if not codec.can_encode:
                print(f"{codec.name:<12} decode-only")
                continue
            if not codec.has_native:
                print(f"{codec.name:<12} unavailable: built without {codec.library}")
                continue
            for label, data in SAMPLES.items():
                try:
                    size, t_enc, t_dec, back = round_trip(codec, data, folder)
                except (oc.EncodeError, TypeError):
                    continue  # this sample does not suit the codec: try the next
                back = np.frombuffer(back, data.dtype).reshape(data.shape) if isinstance(back, bytes) else back
                if back.shape == data.shape and np.array_equal(back, data):
                    result = "exact"
                elif back.shape[:2] == data.shape[:2]:
                    result = f"lossy, PSNR {psnr(data, back[..., :data.shape[-1]] if back.ndim == data.ndim else back):.1f} dB"
                else:
                    result = f"decoded {back.shape} {back.dtype}"
                print(f"{codec.name:<12} {label:<18} {size:>11,} {data.nbytes / max(size, 1):>6.2f} "
                      f"{t_enc * 1e3:>7.1f}ms {t_dec * 1e3:>7.1f}ms  {result}")
                break
            else:
                print(f"{codec.name:<12} no sample suits it")
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
