"""IP → country (iptocc's embedded RIR data) and the combined per-value record."""

from __future__ import annotations

from marsad.enrich.annotate import enrich
from marsad.enrich.geo import country_codes
from marsad.enrich.warninglists import WarninglistMatcher
from marsad.model.normalize import expand, observable
from marsad.model.observable import ObservableType as T


def test_country_codes_for_a_column() -> None:
    # RIR assignments that have been stable for decades: Google (ARIN), APNIC/JPNIC, RIPE.
    got = country_codes(["8.8.8.8", "1.0.16.1", "2001:4860:4860::8888", "10.0.0.1", "::1", "bogus"])
    assert got == ["US", "JP", "US", None, None, None]
    assert country_codes([]) == []


def test_enrich_combines_every_offline_source(matcher: WarninglistMatcher) -> None:
    values = [
        observable(T.IPV4, "8.8.8.8"),
        *expand("hxxps://login.github[.]com/a"),
        observable(T.MD5, "0" * 32),
    ]
    notes = enrich(values, warninglists=matcher, asn=None)
    ip, url, host, registered, md5 = notes
    assert (ip.country, ip.asn, ip.known_benign) == ("US", None, True)
    assert "List of known IPv4 public DNS resolvers" in {h.name for h in ip.warninglists}
    assert (url.type, url.registered_domain) == ("url", "github.com")
    assert (host.value, host.registered_domain) == ("login.github.com", "github.com")
    assert registered.value == "github.com" and registered.known_benign
    assert md5.warninglists == () and not md5.known_benign
