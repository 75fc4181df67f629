"""Core: Codec/Reader/Writer, registry, errors, config, data sources, thread pool."""
