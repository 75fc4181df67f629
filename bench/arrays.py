"""Scientific array codecs: encode and decode of a 64 MiB smooth 3-D float32
field (simulation-like) and a uint16 microscopy stack, against imagecodecs
(python-blosc2 for b2nd, which imagecodecs lacks), compressed sizes alongside.
The README's guidance on which codec to pick comes from this table."""

import imagecodecs as ic
import numpy as np

import opencodecs as oc

from .data import microscopy_u16
from .harness import Side, Workload


def smooth_field(shape=(64, 512, 512), seed=0) -> np.ndarray:
    """A smooth 3-D float32 field with a little noise, like a simulation snapshot."""
    rng = np.random.default_rng(seed)
    z, y, x = (np.linspace(0, 1, n, dtype=np.float32) for n in shape)
    field = (np.sin(6 * z)[:, None, None] * np.cos(9 * y)[None, :, None]
             + np.sin(13 * x)[None, None, :] * np.cos(4 * z)[:, None, None])
    return (field + rng.normal(0, 1e-3, shape).astype(np.float32)).astype(np.float32)


def _b2nd_ref():
    import blosc2

    def encode(a):
        return blosc2.asarray(a, cparams={"codec": blosc2.Codec.ZSTD, "clevel": 5,
                                          "filters": [blosc2.Filter.SHUFFLE], "nthreads": 1}).to_cframe()

    return encode, lambda b, a: blosc2.ndarray_from_cframe(b)[:]


def _cases(field, stack):
    """(label, codec, our encode options, data, peer name, peer encode, exact, peer decode).

    A peer decode takes (the peer's blob, the original array); where the peer
    cannot read our stream (sz3) it decodes its own, of the same data.
    """
    b2nd_enc, b2nd_dec = _b2nd_ref()
    def ic_decode(function, **kw):
        return lambda b, a: function(b, **kw)

    return [
        ("b2nd", "b2nd", {"numthreads": 1}, field, "python-blosc2", b2nd_enc, True, b2nd_dec),
        ("b2nd", "b2nd", {"numthreads": 1}, stack, "python-blosc2", b2nd_enc, True, b2nd_dec),
        ("zfp reversible", "zfp", {}, field, "imagecodecs", ic.zfp_encode, True, ic_decode(ic.zfp_decode)),
        ("zfp accuracy 1e-3", "zfp", {"mode": "accuracy", "accuracy": 1e-3}, field, "imagecodecs",
         lambda a: ic.zfp_encode(a, level=1e-3, mode="a"), False, ic_decode(ic.zfp_decode)),
        ("lerc lossless", "lerc", {}, field, "imagecodecs",
         lambda a: ic.lerc_encode(a, level=0.0), True, ic_decode(ic.lerc_decode)),
        ("lerc lossless", "lerc", {}, stack, "imagecodecs",
         lambda a: ic.lerc_encode(a, level=0.0), True, ic_decode(ic.lerc_decode)),
        ("lerc max_z_error 1e-3", "lerc", {"max_z_error": 1e-3}, field, "imagecodecs",
         lambda a: ic.lerc_encode(a, level=1e-3), False, ic_decode(ic.lerc_decode)),
        ("pcodec", "pcodec", {"level": 8}, field, "imagecodecs", lambda a: ic.pcodec_encode(a, level=8),
         True, lambda b, a: ic.pcodec_decode(b, shape=a.shape, dtype=a.dtype)),
        ("pcodec", "pcodec", {"level": 8}, stack, "imagecodecs", lambda a: ic.pcodec_encode(a, level=8),
         True, lambda b, a: ic.pcodec_decode(b, shape=a.shape, dtype=a.dtype)),
        ("aec block 32 rsi 128", "aec", {"block": 32, "rsi": 128}, stack, "imagecodecs",
         lambda a: ic.aec_encode(a, blocksize=32, rsi=128), True,
         lambda b, a: ic.aec_decode(b, blocksize=32, rsi=128, out=np.empty_like(a))),
        ("sz3 abs 1e-3", "sz3", {"mode": "abs", "error_bound": 1e-3}, field, "imagecodecs",
         lambda a: ic.sz3_encode(a, mode="abs", abs=1e-3), False,
         lambda b, a: ic.sz3_decode(b, a.shape, a.dtype)),
    ]


def workloads(fast=False, only="") -> list:
    if not any(only in f"arrays {c}" for c in ("b2nd", "zfp", "lerc", "pcodec", "aec", "sz3")):
        return []
    field = smooth_field((16, 512, 512) if fast else (64, 512, 512))
    stack = microscopy_u16((4096, 2048) if not fast else (1024, 2048)).reshape(-1, 1024, 2048)
    out = []
    for label, name, opts, data, peer, peer_encode, exact, peer_decode in _cases(field, stack):
        kind = "f32 field" if data.dtype == np.float32 else "u16 stack"
        title = f"arrays {label} {kind} {data.nbytes >> 20} MiB"
        if only not in title:
            continue
        codec = oc.get_codec(name)
        blob = codec.encode(data, **opts)
        theirs = peer_encode(data)
        decoded = codec.decode(blob)
        assert decoded.shape == data.shape and (not exact or np.array_equal(decoded, data)), title
        error = float(np.abs(decoded.astype(np.float64) - data).max())
        sizes = {"ratio": round(data.nbytes / len(blob), 2), "opencodecs": len(blob), peer: len(theirs)}
        note = "lossless" if exact else f"max error {error:.2g}"
        out.append(Workload(f"{title} encode",
                            Side("opencodecs", lambda c=codec, d=data, o=opts: c.encode(d, **o)),
                            [Side(peer, lambda e=peer_encode, d=data: e(d))],
                            sizes=sizes, note=note, target=1.0))
        out.append(Workload(f"{title} decode", Side("opencodecs", lambda c=codec, b=blob: c.decode(b)),
                            [Side(peer, lambda f=peer_decode, b=theirs, a=data: f(b, a))], target=1.0,
                            note="" if name != "sz3" else "imagecodecs decodes its own (older SZ3) stream"))
    return out
