"""`registered_domains` (by column, one lookup per parent) answers as `registered_domain`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marsad.model.normalize import registered_domain
from marsad.model.normalize.domain import _rules, registered_domains


def test_the_column_answers_around_every_rule() -> None:
    names = {"a.b.internal", "x.y.z.example", "localhost", "a..b.com", ".a.com", "a.com.", "A.Com"}
    for rule in _rules():
        base = rule.lstrip("!").removeprefix("*.")
        names.update({base, f"x.{base}", f"y.x.{base}", f"www.y.x.{base}"})
        if "." in base:
            names.add(f"z.{base.partition('.')[2]}")  # a sibling of the rule
    # rules' own names send a whole column one name at a time: test both ways
    listed = sorted(names)
    plain = [n for n in listed if n.count(".") >= 2 and n.isascii() and n[0] != "."]
    for column in (listed, [f"q{i}.{n}" for i, n in enumerate(plain)]):
        assert registered_domains(column) == [registered_domain(n) for n in column]


LABEL = st.sampled_from(["a", "b", "com", "co", "uk", "1", "42", "xn--bcher-kva", "ü", "", "ck"])


@given(st.lists(st.lists(LABEL, min_size=1, max_size=4).map(".".join), max_size=12))
def test_the_column_answers_on_any_names(names: list[str]) -> None:
    names = [*names, *(f"{n}." for n in names[:2]), *(f"x.{n}" for n in names)]
    assert registered_domains(names) == [registered_domain(n) for n in names]
