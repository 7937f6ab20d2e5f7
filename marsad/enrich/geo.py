"""IP → country, from the RIR delegation data that the `iptocc` package embeds.

The country is the one a Regional Internet Registry *assigned* the block to, not where
a host sits; `iptocc` (MIT/Apache-2.0) compiles the five RIRs' delegation files into its
wheel, so the look-up needs no file and no network. Private and reserved space has none.
"""

from __future__ import annotations

from collections.abc import Sequence

import iptocc


def country_codes(addresses: Sequence[str]) -> list[str | None]:
    """ISO 3166-1 alpha-2 code for each IPv4/IPv6 address (None when unassigned or invalid);
    the whole column goes to the Rust look-up in one call."""
    if not addresses:
        return []
    return list(iptocc.country_code(list(addresses)))
