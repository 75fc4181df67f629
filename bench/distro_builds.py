"""python -m bench.distro_builds: the distro's shared build of a library against our
static upstream build, on the same data and settings, outputs compared first.

What scripts/build-upstream's `distro_build_slow` rests on. Meaningful where the
system's release equals our pin (brotli 1.1 and CharLS 2.4.2 on Debian 13, e.g.
in a `scripts/check-distro trixie` root); elsewhere it says the outputs differ.
Prints a Markdown table."""
import ctypes
import ctypes.util
import time

import numpy as np

import opencodecs as oc

from .data import microscopy_u16


def best(f, n=9):
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[n // 2]


def row(name, distro, ours):
    td, to = best(distro), best(ours)
    print(f"| {name} | {td*1e3:.1f} ms | {to*1e3:.1f} ms | {td/to:.2f}x |")


def main() -> None:
    img = microscopy_u16((2048, 2048))
    data = (img.tobytes() * 2)[:16 << 20]
    print("| workload | distro shared build | our upstream static build | distro / ours |")
    print("| --- | ---: | ---: | ---: |")

    # brotli: BrotliEncoderCompress / BrotliDecoderDecompress of the system library
    br = oc.get_codec("brotli")
    enc = ctypes.CDLL(ctypes.util.find_library("brotlienc"))
    dec = ctypes.CDLL(ctypes.util.find_library("brotlidec"))
    print(f"<!-- system brotli {enc.BrotliEncoderVersion():#x}, ours {br.library_build} -->")
    cap = len(data) + (1 << 20)
    buf = ctypes.create_string_buffer(cap)
    for q in (4, 5, 9):
        def sys_enc(q=q):
            size = ctypes.c_size_t(cap)
            assert enc.BrotliEncoderCompress(q, 22, 0, ctypes.c_size_t(len(data)), data, ctypes.byref(size), buf)
            return buf.raw[:size.value]
        blob = br.encode(data, level=q)
        if sys_enc() != blob:
            print(f"| brotli q{q}: the system's release differs from ours (outputs differ): skipped | | | |")
            break
        row(f"brotli encode q{q} 16 MiB u16 microscopy", sys_enc, lambda q=q: br.encode(data, level=q))
        out = ctypes.create_string_buffer(len(data))
        def sys_dec(blob=blob):
            size = ctypes.c_size_t(len(data))
            assert dec.BrotliDecoderDecompress(ctypes.c_size_t(len(blob)), blob, ctypes.byref(size), out) == 1
            return out.raw[:size.value]
        assert sys_dec() == data
        row(f"brotli decode q{q} 16 MiB u16 microscopy", sys_dec, lambda blob=blob: br.decode(blob))

    # CharLS: charls_jpegls_encoder / decoder of the system library
    ch = ctypes.CDLL(ctypes.util.find_library("charls"))
    ch.charls_jpegls_encoder_create.restype = ctypes.c_void_p
    ch.charls_jpegls_decoder_create.restype = ctypes.c_void_p
    ch.charls_get_version_string.restype = ctypes.c_char_p
    print(f"<!-- system CharLS {ch.charls_get_version_string().decode()}, ours {oc.get_codec('jpegls').library_build} -->")
    class FrameInfo(ctypes.Structure):
        _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32), ("bits_per_sample", ctypes.c_int32),
                    ("component_count", ctypes.c_int32)]
    jl = oc.get_codec("jpegls")
    for label, a in (("u16 microscopy 2048x2048", img), ):
        dst = ctypes.create_string_buffer(a.nbytes * 2)
        def sys_jenc(a=a):
            e = ch.charls_jpegls_encoder_create()
            fi = FrameInfo(a.shape[1], a.shape[0], 16, 1)
            assert ch.charls_jpegls_encoder_set_frame_info(ctypes.c_void_p(e), ctypes.byref(fi)) == 0
            assert ch.charls_jpegls_encoder_set_destination_buffer(ctypes.c_void_p(e), dst, ctypes.c_size_t(len(dst))) == 0
            assert ch.charls_jpegls_encoder_encode_from_buffer(ctypes.c_void_p(e), a.ctypes.data_as(ctypes.c_void_p),
                                                               ctypes.c_size_t(a.nbytes), ctypes.c_uint32(0)) == 0
            n = ctypes.c_size_t()
            ch.charls_jpegls_encoder_get_bytes_written(ctypes.c_void_p(e), ctypes.byref(n))
            ch.charls_jpegls_encoder_destroy(ctypes.c_void_p(e))
            return dst.raw[:n.value]
        blob = jl.encode(a)
        if sys_jenc() != blob:
            print("| jpegls: the system's release differs from ours (outputs differ): skipped | | | |")
            break
        row(f"jpegls encode {label} lossless", sys_jenc, lambda a=a: jl.encode(a))
        out = np.empty_like(a)
        def sys_jdec(blob=blob):
            d = ch.charls_jpegls_decoder_create()
            assert ch.charls_jpegls_decoder_set_source_buffer(ctypes.c_void_p(d), blob, ctypes.c_size_t(len(blob))) == 0
            assert ch.charls_jpegls_decoder_read_header(ctypes.c_void_p(d)) == 0
            assert ch.charls_jpegls_decoder_decode_to_buffer(ctypes.c_void_p(d), out.ctypes.data_as(ctypes.c_void_p),
                                                             ctypes.c_size_t(out.nbytes), ctypes.c_uint32(0)) == 0
            ch.charls_jpegls_decoder_destroy(ctypes.c_void_p(d))
            return out
        assert np.array_equal(sys_jdec(), a)
        row(f"jpegls decode {label} lossless", sys_jdec, lambda blob=blob: jl.decode(blob))

    zfp = ctypes.CDLL(ctypes.util.find_library("zfp") or "libzfp.so.1")
    print(f"<!-- system zfp {ctypes.c_char_p.in_dll(zfp, 'zfp_version_string').value.decode()}: "
          f"stream_word_bits {ctypes.c_size_t.in_dll(zfp, 'stream_word_bits').value} (upstream default 64) -->")


if __name__ == "__main__":
    main()
