"""TIFF vocabulary shared by the reader and the writer: tag codes, field types,
and the codes of compressions, photometric interpretations and predictors.

Names follow the TIFF 6.0 specification and tifffile's spelling.
"""

# Field types: code -> (name, size in bytes, numpy dtype char without byte order)
FIELD_TYPES = {
    1: ("BYTE", 1, "u1"),
    2: ("ASCII", 1, "S1"),
    3: ("SHORT", 2, "u2"),
    4: ("LONG", 4, "u4"),
    5: ("RATIONAL", 8, "u4"),    # two LONGs
    6: ("SBYTE", 1, "i1"),
    7: ("UNDEFINED", 1, "u1"),
    8: ("SSHORT", 2, "i2"),
    9: ("SLONG", 4, "i4"),
    10: ("SRATIONAL", 8, "i4"),  # two SLONGs
    11: ("FLOAT", 4, "f4"),
    12: ("DOUBLE", 8, "f8"),
    13: ("IFD", 4, "u4"),
    16: ("LONG8", 8, "u8"),
    17: ("SLONG8", 8, "i8"),
    18: ("IFD8", 8, "u8"),
}

# Tags the reader and writer use by name.
NEW_SUBFILE_TYPE = 254
IMAGE_WIDTH = 256
IMAGE_LENGTH = 257
BITS_PER_SAMPLE = 258
COMPRESSION = 259
PHOTOMETRIC = 262
FILL_ORDER = 266
IMAGE_DESCRIPTION = 270
MAKE = 271
MODEL = 272
STRIP_OFFSETS = 273
ORIENTATION = 274
SAMPLES_PER_PIXEL = 277
ROWS_PER_STRIP = 278
STRIP_BYTE_COUNTS = 279
X_RESOLUTION = 282
Y_RESOLUTION = 283
PLANAR_CONFIGURATION = 284
RESOLUTION_UNIT = 296
SOFTWARE = 305
DATE_TIME = 306
PREDICTOR = 317
COLORMAP = 320
TILE_WIDTH = 322
TILE_LENGTH = 323
TILE_OFFSETS = 324
TILE_BYTE_COUNTS = 325
SUB_IFDS = 330
EXTRA_SAMPLES = 338
SAMPLE_FORMAT = 339
JPEG_TABLES = 347
YCBCR_SUBSAMPLING = 530
IMAGE_DEPTH = 32997
LERC_PARAMETERS = 50674

TAG_NAMES = {
    254: "NewSubfileType", 255: "SubfileType", 256: "ImageWidth", 257: "ImageLength",
    258: "BitsPerSample", 259: "Compression", 262: "PhotometricInterpretation",
    263: "Threshholding", 266: "FillOrder", 269: "DocumentName", 270: "ImageDescription",
    271: "Make", 272: "Model", 273: "StripOffsets", 274: "Orientation",
    277: "SamplesPerPixel", 278: "RowsPerStrip", 279: "StripByteCounts",
    280: "MinSampleValue", 281: "MaxSampleValue", 282: "XResolution", 283: "YResolution",
    284: "PlanarConfiguration", 285: "PageName", 286: "XPosition", 287: "YPosition",
    296: "ResolutionUnit", 297: "PageNumber", 305: "Software", 306: "DateTime",
    315: "Artist", 316: "HostComputer", 317: "Predictor", 318: "WhitePoint",
    319: "PrimaryChromaticities", 320: "ColorMap", 322: "TileWidth", 323: "TileLength",
    324: "TileOffsets", 325: "TileByteCounts", 330: "SubIFDs", 338: "ExtraSamples",
    339: "SampleFormat", 340: "SMinSampleValue", 341: "SMaxSampleValue",
    347: "JPEGTables", 529: "YCbCrCoefficients", 530: "YCbCrSubSampling",
    531: "YCbCrPositioning", 532: "ReferenceBlackWhite", 32997: "ImageDepth",
    32998: "TileDepth", 33432: "Copyright", 34665: "ExifTag", 34675: "InterColorProfile",
    34853: "GPSTag", 50674: "LercParameters",
}

# Compression codes -> tifffile's names (the writer's `compression=` values).
COMPRESSIONS = {
    1: "none",
    5: "lzw",
    7: "jpeg",
    8: "adobe_deflate",
    32773: "packbits",
    32946: "deflate",
    33003: "jpeg2000",  # Aperio JPEG 2000 YCbCr
    33005: "jpeg2000",  # Aperio JPEG 2000 RGB
    34712: "jpeg2000",
    34887: "lerc",
    34925: "lzma",
    50000: "zstd",      # also 34926 in older files
    34926: "zstd",
    50001: "webp",      # also 34927
    34927: "webp",
    50002: "jpegxl",    # also 52546
    52546: "jpegxl",
    65000: "eer",       # Thermo Fisher EER
    65001: "eer",
    65002: "eer",
}

# The code the writer uses for each compression name.
COMPRESSION_CODES = {
    "none": 1, "lzw": 5, "jpeg": 7, "zlib": 8, "deflate": 8, "adobe_deflate": 8,
    "packbits": 32773, "jpeg2000": 34712, "lerc": 34887, "lzma": 34925,
    "zstd": 50000, "webp": 50001, "jpegxl": 50002,
}

PHOTOMETRIC_MINISWHITE = 0
PHOTOMETRIC_MINISBLACK = 1
PHOTOMETRIC_RGB = 2
PHOTOMETRIC_PALETTE = 3
PHOTOMETRIC_MASK = 4
PHOTOMETRIC_SEPARATED = 5
PHOTOMETRIC_YCBCR = 6

PREDICTOR_NONE = 1
PREDICTOR_HORIZONTAL = 2
PREDICTOR_FLOATINGPOINT = 3

SAMPLE_FORMAT_UINT = 1
SAMPLE_FORMAT_INT = 2
SAMPLE_FORMAT_IEEEFP = 3

PLANAR_CONTIG = 1
PLANAR_SEPARATE = 2

# NewSubfileType bits
SUBFILE_REDUCED = 1
SUBFILE_PAGE = 2
SUBFILE_MASK = 4

# Tags the writer uses beyond those above.
REFERENCE_BLACK_WHITE = 532
