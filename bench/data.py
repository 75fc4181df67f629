"""Data that looks like real data: smooth images with noise, not constants."""

import numpy as np


def microscopy_u16(shape=(2048, 4096), seed=0) -> np.ndarray:
    """Fluorescence-like uint16: dark background, blurred bright cells, shot noise."""
    rng = np.random.default_rng(seed)
    h, w = shape
    # Cells: a coarse random field upsampled smoothly, thresholded into blobs.
    coarse = rng.random((h // 64 + 2, w // 64 + 2))
    yi = np.linspace(0, coarse.shape[0] - 1.001, h)
    xi = np.linspace(0, coarse.shape[1] - 1.001, w)
    y0, x0 = yi.astype(int), xi.astype(int)
    fy, fx = (yi - y0)[:, None], (xi - x0)[None, :]
    c = coarse
    field = ((c[y0][:, x0] * (1 - fx) + c[y0][:, x0 + 1] * fx) * (1 - fy)
             + (c[y0 + 1][:, x0] * (1 - fx) + c[y0 + 1][:, x0 + 1] * fx) * fy)
    signal = 100 + 3000 * np.clip(field - 0.55, 0, None) ** 1.5 * 4
    noisy = rng.poisson(signal.astype(np.float32)).astype(np.float32)
    noisy += rng.normal(0, 2, shape).astype(np.float32)  # read noise
    return np.clip(noisy, 0, 65535).astype(np.uint16)


def random_bytes(n=16 << 20, seed=0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()
