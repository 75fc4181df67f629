"""TIFF predictors, applied or undone in place on native-byte-order tiles.

Predictor 2 (horizontal differencing) works on integers of 1, 2, 4 or 8 bytes;
predictor 3 (floating point, Adobe TIFF Technote 3) on floats of 2, 4 or 8
bytes. A tile is shaped (rows, cols) or (rows, cols, samples): differences run
along each row, per sample (channel).
"""

import numpy as np

from ..core.codec import import_native
from ..core.errors import EncodeError

_native = None


def _module():
    global _native
    if _native is None:
        _native = import_native("predictor", "_predictors", "built in")
    return _native


def _apply(tile: np.ndarray, predictor: int, decode: bool) -> np.ndarray:
    if predictor == 1:
        return tile
    if not isinstance(tile, np.ndarray) or not tile.flags.c_contiguous or not tile.flags.writeable:
        raise ValueError("predictor: the tile must be a writable C-contiguous ndarray")
    if tile.ndim not in (2, 3):
        raise ValueError(f"predictor: expected a (rows, cols[, samples]) tile, got shape {tile.shape}")
    kind, itemsize = tile.dtype.kind, tile.dtype.itemsize
    if predictor == 2 and (kind not in "iub" or itemsize not in (1, 2, 4, 8)):
        raise EncodeError(f"predictor 2 (horizontal) needs integer samples, got {tile.dtype}")
    if predictor == 3 and (kind != "f" or itemsize not in (2, 4, 8)):
        raise EncodeError(f"predictor 3 (floating point) needs float samples, got {tile.dtype}")
    if predictor not in (2, 3):
        raise EncodeError(f"unknown TIFF predictor {predictor}; choose 1, 2 or 3")
    rows, cols = tile.shape[:2]
    spp = tile.shape[2] if tile.ndim == 3 else 1
    if tile.size:
        _module().apply(tile, predictor, decode, rows, cols, spp, itemsize)
    return tile


def predictor_decode(tile: np.ndarray, predictor: int) -> np.ndarray:
    """Undo TIFF predictor 1, 2 or 3 on `tile` in place; returns the tile."""
    return _apply(tile, predictor, True)


def predictor_encode(tile: np.ndarray, predictor: int) -> np.ndarray:
    """Apply TIFF predictor 1, 2 or 3 to `tile` in place; returns the tile."""
    return _apply(tile, predictor, False)
