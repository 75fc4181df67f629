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


def photo_rgb(shape=(2048, 2048), seed=0) -> np.ndarray:
    """Photo-like uint8 RGB: smooth gradients and shapes, edges, texture and sensor noise."""
    rng = np.random.default_rng(seed)
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.stack([90 + 60 * y / h, 140 + 50 * y / h, 220 - 40 * y / h], -1)
    hills = (y > h * (0.55 + 0.08 * np.sin(x / w * 9.0)))[..., None]
    grass = np.stack([60 + 30 * np.sin(x / 37.0), 120 + 40 * np.sin(y / 23.0), 50 + 0 * x], -1)
    img = np.where(hills, grass, sky)
    for _ in range(12):  # discs with soft shading: objects with edges
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(h / 30, h / 8)
        d = np.hypot(y - cy, x - cx)
        inside = (d < r)[..., None]
        colour = rng.uniform(30, 240, 3) * (1 - 0.4 * (d / r))[..., None]
        img = np.where(inside, colour, img)
    img += rng.normal(0, 4, img.shape)  # sensor noise
    return np.clip(img, 0, 255).astype(np.uint8)
