"""HTJ2K, High-Throughput JPEG 2000 (Part 15) codestreams: OpenJPH encodes,
OpenJPEG decodes.

OpenJPH 0.9 (Debian 12) aborts on failed assertions, or loops forever, on
corrupt codestreams, so it never sees input we did not make: decoding goes
through OpenJPEG 2.5, whose HT decoder survives hostile input (and reads
classic JPEG 2000 codestreams and .jph files too).

Options:
- lossless / quality: lossless (reversible 5/3 wavelet) unless `quality` is
  given; `lossless=False` alone means quality 75. `quality` 0-100 sets the
  quantisation step of the 9/7 wavelet (OpenJPH's qstep, a fraction of the
  sample range) from the PSNR that jpeg2k's quality targets,
  psnr = quality / 100 * (6.02 * bits + 10.79) dB: the step whose uniform
  quantisation noise gives that PSNR, sqrt(12) * 10 ** (-psnr / 20), made
  2.5x finer because the noise of the sixteen subbands adds up (measured:
  about 8 dB on photos), at most 1. Quality 75 gives about 44 dB on 8-bit
  photos, as jpeg2k does.
- numthreads (decode): OpenJPEG's worker threads.
"""

import math
from functools import cached_property

import numpy as np

from ...core.codec import import_native
from ...core.registry import register
from .base import ImageCodec, image_array
from .jpeg2k import SOC_SIZ, decode_with_openjpeg, lossy_quality, psnr_for_quality, wavelet_levels

# Rsiz bit that marks a codestream using Part 15 (HT) code blocks.
_RSIZ_HT = 0x4000
_SUBBAND_NOISE = 2.5


def qstep_for_quality(quality: int, bits: int) -> float:
    """OpenJPH's quantisation step for `quality` (see the module notes)."""
    uniform = math.sqrt(12) * 10 ** (-psnr_for_quality(quality, bits) / 20)
    return min(1.0, uniform / _SUBBAND_NOISE)


@register
class Htj2k(ImageCodec):
    name = "htj2k"
    aliases = ("jph", "jpeg2000-ht")
    file_extensions = (".j2c",)
    description = "High-Throughput JPEG 2000 codestreams, lossless and lossy"
    library = "OpenJPH"
    _native = "_openjph"
    refines = "jpeg2k"  # HTJ2K codestreams are JPEG 2000 codestreams
    supported_dtypes = tuple(map(np.dtype, (np.uint8, np.uint16, np.int8, np.int16)))
    channels = (1, 2, 3, 4)

    def signature(self, head):
        return head[:4] == SOC_SIZ and bool(int.from_bytes(head[6:8], "big") & _RSIZ_HT)

    @cached_property
    def _decoder(self):
        return import_native(self.name, "_openjpeg", "OpenJPEG")

    def _encode(self, data, out, *, lossless=None, quality=None):
        arr, h, w, c = image_array(self, data)
        quality = lossy_quality(self.name, lossless, quality)
        qstep = 0.0 if quality is None else qstep_for_quality(quality, arr.dtype.itemsize * 8)
        return self.native.encode(arr, h, w, c, arr.dtype.kind == "i", quality is None, qstep,
                                  wavelet_levels(h, w), out)

    def _decode(self, buf, out, *, numthreads=None):
        return decode_with_openjpeg(self.name, self._decoder, buf, out, numthreads)
