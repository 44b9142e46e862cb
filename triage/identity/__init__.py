"""Keyed identity: canonical identifiers -> HMAC digests -> people and a victim-lookup index.

Nothing in this package keeps or writes an identifier in clear: values are
canonicalised and hashed batch by batch, and only truncated keyed digests leave it.
See docs/lookup.md for the threat model and the on-disk layout.
"""
