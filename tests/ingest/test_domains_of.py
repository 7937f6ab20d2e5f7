"""`domains_of` (by column) answers as `domain_of` one row at a time for domains, URLs and
e-mail addresses, and None for every other kind."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marsad.ingest.batch import domain_of, domains_of
from marsad.model.observable import ObservableType as T

LABEL = st.sampled_from(["a", "bank", "com", "co", "uk", "fj", "1", "42", "xn--bcher-kva", ""])
HOST = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["203.0.113.7", "[2001:db8::1]", "[abcd:db8::1]", "localhost"]),
)


@st.composite
def rows(draw: st.DrawFn) -> tuple[T, str]:
    host = draw(HOST)
    kind = draw(st.sampled_from([T.DOMAIN, T.URL, T.EMAIL, T.IPV4, T.SHA256]))
    if kind is T.URL:
        user = draw(st.sampled_from(["", "user@", "a:b@"]))
        port = draw(st.sampled_from(["", ":8080"]))
        path = draw(st.sampled_from(["/", "/a/b", "/x@y"]))
        return kind, f"https://{user}{host}{port}{path}"
    if kind is T.EMAIL:
        return kind, f"someone@{host}"
    if kind is T.DOMAIN:
        return kind, host.strip("[]")
    return kind, host


@given(st.lists(rows(), max_size=30))
def test_the_column_answers_as_each_row(pairs: list[tuple[T, str]]) -> None:
    types = [t for t, _ in pairs]
    values = [v for _, v in pairs]
    hosted = (T.DOMAIN, T.URL, T.EMAIL)
    assert domains_of(types, values) == [domain_of(t, v) if t in hosted else None for t, v in pairs]


def test_the_column_finds_the_registered_domains() -> None:
    types = [T.URL, T.EMAIL, T.DOMAIN, T.URL, T.IPV4, T.URL]
    values = [
        "https://user@login.bank.com.fj:8443/a",
        "ops@mail.example.co.uk",
        "www.example.org",
        "http://[2001:db8::1]/x",
        "203.0.113.7",
        "http://203.0.113.7/a",
    ]
    assert domains_of(types, values) == [
        "bank.com.fj",
        "example.co.uk",
        "example.org",
        None,
        None,
        None,
    ]
