"""Observable normalisers: pure functions from raw text to the one canonical value.

`normalize(type, raw)` refangs, validates and canonicalises, raising `InvalidObservable`
with the reason; `observable` wraps the result; `detect(raw)` guesses the type of one
token cheaply (it runs on every line of a list) and never raises; `expand(raw)` adds what
a value implies, for search; `registered_domain` is the eTLD+1 from the offline public
suffix list. The canonical form of each type is described in its module: `ip`, `domain`,
`url`, `email`, `onion`, `hashes`, `wallets` and `bech32`, `phone`, `iban`, `asn`,
`tracking`; the detection order in `detection`; the defanging markers in `refang`.
"""

from __future__ import annotations

from marsad.model.normalize.detection import detect, expand
from marsad.model.normalize.dispatch import normalize, observable
from marsad.model.normalize.domain import registered_domain
from marsad.model.normalize.refang import refang

__all__ = ["detect", "expand", "normalize", "observable", "refang", "registered_domain"]
