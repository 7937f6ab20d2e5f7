"""Offline enrichment: warninglists, IP → country and ASN (pure lookups), and the
optional online look-ups (RDAP, DNS) that an instance may switch on.

The matchers and tables here take data already loaded; `loaders` reads packages and
files and keeps the compiled forms on disk; `online` is the only part that talks to a
network, and only when the instance allows it.
"""
