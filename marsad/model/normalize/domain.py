"""Domain and host names, and the registered domain (eTLD+1).

A domain is lower case without its trailing dot. Unicode names become their IDNA A-label
(punycode) form through UTS #46 mapping (IDNA 2008, non-transitional: ``faß.de`` is
``xn--fa-hia.de``), so ``bücher.example`` and ``xn--bcher-kva.example`` are one value.
Labels are 1-63 characters of letters, digits, hyphens (not at either end) and
underscores (service labels such as ``_dmarc``); names are at most 253 characters. A label
given already as ``xn--…`` must be decodable punycode, nothing more: registered emoji
names exist and are kept. A domain has two labels or more and its top-level label is not
all digits; ``.onion`` names are their own type (`onion`). The public suffix list is the
one the `publicsuffixlist` package ships; nothing is downloaded at run time.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from operator import methodcaller
from typing import Any, Final

import idna
from publicsuffixlist import PSLFILE, PublicSuffixList, encode_idn

from marsad.model.errors import InvalidObservable

_LABEL_RE: Final = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
# Fast shape check; hyphens at a label's ends are ruled out by substring tests.
_HOST: Final = re.compile(r"[a-z0-9_-]{1,63}+(?:\.[a-z0-9_-]{1,63}+)*+\Z")
_LABEL: Final = re.compile(rf"{_LABEL_RE}\Z")
_PSL: Final = PublicSuffixList()


def _to_ascii(kind: str, text: str) -> str:
    """UTS #46 mapping, then the A-label of every non-ASCII label."""
    try:
        mapped = idna.uts46_remap(text, std3_rules=False, transitional=False)
        labels = mapped.rstrip(".").split(".")
        return ".".join(
            label if label.isascii() else idna.alabel(label).decode("ascii") for label in labels
        )
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidObservable(kind, text, f"not a valid internationalised name ({exc})") from None


def _host_reason(text: str) -> str:
    if len(text) > 253:
        return "longer than 253 characters"
    for label in text.split("."):
        if not label:
            return "empty label (two dots in a row)"
        if len(label) > 63:
            return f"label {label[:20]!r}… is longer than 63 characters"
        if not _LABEL.match(label):
            return f"label {label!r} is not a valid DNS label"
    return "not a host name"  # pragma: no cover - the regex and the loop agree


def _check_alabels(kind: str, raw: str, text: str) -> None:
    for label in text.split("."):
        if label.startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                raise InvalidObservable(
                    kind, raw, f"label {label!r} is not valid punycode"
                ) from None


def normalize_host(raw: str, kind: str = "domain") -> str:
    """A host name of one or more labels (URL hosts may be single-label), canonical form."""
    text = raw.lower()
    if text[-1:] == ".":
        text = text[:-1]
    if not text.isascii():
        text = _to_ascii(kind, text)
    if (
        len(text) > 253
        or _HOST.match(text) is None
        or text[0] == "-"
        or text[-1] == "-"
        or "-." in text
        or ".-" in text
    ):
        raise InvalidObservable(kind, raw, _host_reason(text) if text else "empty name")
    if "xn--" in text:
        _check_alabels(kind, raw, text)
    return text


def domain_reason(text: str) -> str | None:
    """Why a canonical host name is not a domain, or None when it is one."""
    dot = text.rfind(".")
    if dot < 0:
        return "a domain needs at least two labels"
    tld = text[dot + 1 :]
    if tld.isdigit() or "_" in tld:
        return f"top-level label {tld!r} is not a valid TLD"
    if tld == "onion":
        return "onion addresses are their own type (onion)"
    return None


def normalize_domain(raw: str) -> str:
    """A fully qualified domain name: two labels or more, top-level label not numeric."""
    text = normalize_host(raw)
    reason = domain_reason(text)
    if reason is not None:
        raise InvalidObservable("domain", raw, reason)
    return text


@lru_cache(maxsize=4096)
def _known_tld(tld: str) -> bool:
    return _PSL.publicsuffix(tld, accept_unknown=False) is not None


def has_known_suffix(domain: str) -> bool:
    """Whether a canonical domain's top-level label is in the public suffix list.

    Auto-detection uses it to tell ``setup.exe`` or ``config.local`` from a domain. Every
    rule of the list sits under a listed top-level label, so the last label decides.
    """
    return _known_tld(domain[domain.rfind(".") + 1 :])


@cache
def _rules() -> frozenset[str]:
    """The list's rules as `publicsuffixlist` reads them: ``!exception``, ``*.wildcard`` and
    plain names, lower case, each also in its A-label form: the library's own parsed set
    when it has one (a frozenset in ``_publicsuffix``), else `_read_rules`."""
    parsed = getattr(_PSL, "_publicsuffix", None)
    if isinstance(parsed, frozenset) and all(type(r) is str for r in parsed):
        return parsed
    return _read_rules()


def _read_rules() -> frozenset[str]:
    """The shipped list read the way the library reads it (encoding the A-labels of its
    non-ASCII rules takes ~0.1 s, so not unless needed)."""
    with open(PSLFILE, "rb") as f:
        text = f.read().decode("utf8", "surrogateescape").lower()
    found: set[str] = set()
    for line in text.splitlines():
        rule = line.split(" ")[0].rstrip()
        if rule and not rule.startswith("//"):
            found.add(rule)
            if not rule.isascii():  # an ASCII rule is its own A-label form
                encoded = encode_idn(rule.lstrip("!"))
                found.add("!" + encoded if rule[0] == "!" else encoded)
    return frozenset(found)


_UNSEEN: Final = object()
_BY_PARENT: dict[str, str | None] = {}


def registered_domain(domain: str) -> str | None:
    """The registered domain (eTLD+1) of a domain; None for a bare public suffix or an IP.

    An unlisted top-level label counts as a public suffix (``a.b.internal`` → ``b.internal``).
    The answer is the list's (`publicsuffixlist`'s) own: a rule can only involve the name's
    first label by being the whole name (``!name``, ``*.name``, ``name``) or a wildcard over
    its parent (``*.parent``); when none is listed, the name's public suffix is its
    parent's, so the answer depends only on the parent (looked up once per parent: hosts in
    bulk share a few parents, ``com``, ``co.uk``, …).
    """
    text = domain.lower()
    if text[-1:] == ".":
        text = text[:-1]
    if not text or text[text.rfind(".") + 1 :].isdigit():
        return None
    head, _, parent = text.partition(".")
    if not head or not parent or ".." in text or text[-1] == "." or not text.isascii():
        return _privatesuffix(text)
    rules = _rules()
    if "!" + text in rules:  # an exception: the name itself is registered
        return text
    if text in rules or "*." + text in rules:  # the name is a public suffix
        return None
    found = _by_parent(parent, rules)
    # the parent a public suffix: the name is the registered domain; else the parent's is
    return text if found is _SELF else found


_SELF: Final[Any] = object()  # `_by_parent`: the name itself is the registered domain
_ONE_BY_ONE: Final[Any] = object()


def _by_parent(parent: str, rules: frozenset[str]) -> Any:
    """The registered domain of any name ``head.parent`` that no rule names as a whole:
    None under a wildcard over the parent, `_SELF` when the parent is a public suffix."""
    if "*." + parent in rules and "!" + parent not in rules:  # a wildcard over the parent
        return None
    found = _BY_PARENT.get(parent, _UNSEEN)
    if found is _UNSEEN:
        if len(_BY_PARENT) > 100_000:
            _BY_PARENT.clear()
        found = _BY_PARENT[parent] = _privatesuffix(parent)
    return _SELF if found is None else found


@cache
def _rule_names() -> frozenset[str]:
    """Every name a rule names as a whole (``!name``, ``*.name``, ``name``)."""
    return frozenset(r[1:] if r[0] == "!" else r.removeprefix("*.") for r in _rules())


def _parent_answer(parent: str, rules: frozenset[str]) -> Any:
    """`registered_domain` of ``head.parent`` as far as the parent decides it."""
    if not parent or parent[0] == "." or parent[-1] == "." or ".." in parent:
        return _ONE_BY_ONE
    if not parent.isascii():
        return _ONE_BY_ONE
    if parent[parent.rfind(".") + 1 :].isdigit():
        return None
    return _by_parent(parent, rules)


def registered_domains(names: list[str]) -> list[str | None]:
    """`registered_domain` of each name (the same answers), by column: one lookup per
    distinct parent. When no name is a rule's whole name or has an empty or non-ASCII
    first label, the answer for ``head.parent`` depends on the parent alone (its top
    label, a wildcard over it, its own registered domain); otherwise, and for a parent
    that is empty, has a trailing dot, two dots or non-ASCII, one name at a time."""
    texts = list(map(str.lower, names))
    parts = list(map(methodcaller("partition", "."), texts))
    heads = [h for h, _, _ in parts]
    if "" in heads or not "".join(heads).isascii() or not _rule_names().isdisjoint(texts):
        return list(map(registered_domain, names))
    rules = _rules()
    answers = {p: _parent_answer(p, rules) for p in {p for _, _, p in parts}}
    return [
        text
        if (a := answers[parent]) is _SELF
        else (registered_domain(name) if a is _ONE_BY_ONE else a)
        for name, text, (_, _, parent) in zip(names, texts, parts, strict=True)
    ]


def _privatesuffix(text: str) -> str | None:
    found = _PSL.privatesuffix(text)
    return str(found) if found else None
