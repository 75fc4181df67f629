"""Codec registry: names, aliases, extensions, magic bytes, unavailable codecs."""

import pytest

import opencodecs as oc
from opencodecs.core import registry
from opencodecs.core.codec import Codec


def test_every_codec_has_a_unique_name_and_aliases():
    seen = set()
    for codec in oc.list_codecs():
        for key in (codec.name, *codec.aliases):
            assert key.lower() not in seen
            seen.add(key.lower())
            assert oc.get_codec(key) is codec
            assert oc.get_codec(key.upper()) is codec


def test_codec_attributes_follow_the_spec():
    for codec in oc.list_codecs():
        for attr in ("name", "aliases", "file_extensions", "can_encode", "can_decode",
                     "multi_frame", "chunked", "streaming_decode", "parallel_decode",
                     "supported_dtypes", "supports_color", "has_native"):
            assert hasattr(codec, attr), (codec.name, attr)
        assert all(ext.startswith(".") for ext in codec.file_extensions)


def test_extensions_are_claimed_without_ties():
    for codec in oc.list_codecs():
        for ext in codec.file_extensions:
            assert oc.codec_for_path("file" + ext.upper()) is not None
            winner = oc.codec_for_path("file" + ext)
            if winner is not codec:  # only a refinement may lose its extension
                assert codec.refines is not None, (codec.name, ext, winner.name)


def test_unknown_name_raises():
    with pytest.raises(oc.UnknownFormatError):
        oc.get_codec("no-such-codec")
    assert not oc.has_codec("no-such-codec")


def test_codec_for_path_and_bytes():
    assert oc.codec_for_path("a/b/c.ZST").name == "zstd"
    assert oc.codec_for_path("noext") is None
    assert oc.codec_for_path(".zst") is None  # a dotfile, not an extension
    assert oc.codec_for_bytes(oc.get_codec("zstd").encode(b"x")).name == "zstd"
    assert oc.codec_for_bytes(b"") is None


class _Base(Codec):
    name = "test-base"
    file_extensions = (".tbase",)

    def signature(self, head):
        return head.startswith(b"BASE")


class _Refined(Codec):
    name = "test-refined"
    refines = "test-base"
    file_extensions = (".tbase", ".tref.tbase")

    def signature(self, head):
        return head.startswith(b"BASE+REFINED")


@pytest.fixture
def fake_codecs():
    snapshot = (dict(registry._by_name), dict(registry._by_alias),
                {k: list(v) for k, v in registry._by_extension.items()})
    # Registered refinement first: dispatch must not depend on that order.
    registry.register(_Refined)
    registry.register(_Base)
    yield
    registry._by_name, registry._by_alias, registry._by_extension = snapshot


def test_dispatch_prefers_specificity_not_import_order(fake_codecs):
    assert oc.codec_for_bytes(b"BASE+REFINED...").name == "test-refined"
    assert oc.codec_for_bytes(b"BASE....").name == "test-base"
    assert oc.codec_for_path("x.tbase").name == "test-base"
    assert oc.codec_for_path("x.tref.tbase").name == "test-refined"


def test_registering_a_name_twice_fails(fake_codecs):
    with pytest.raises(RuntimeError):
        registry.register(_Base)


class _Missing(Codec):
    name = "test-missing"
    library = "libnothing"
    _native = "_no_such_module"

    def _decode(self, buf, out):
        return self.native.decode(buf)


def test_missing_native_library_stays_listed_and_names_library(fake_codecs):
    registry.register(_Missing)
    codec = oc.get_codec("test-missing")
    assert codec in oc.list_codecs()
    assert codec.has_native is False
    assert not oc.has_codec("test-missing")
    with pytest.raises(oc.CodecUnavailableError, match="libnothing"):
        codec.decode(b"abc")
