"""Recipes: how each kind of criminal operation lays out its infrastructure."""

from __future__ import annotations

import string
from collections.abc import Callable

from marsad.demo import identifiers as ids
from marsad.demo import names as N
from marsad.demo.networks import SCAM_PHONE_COUNTRIES, Builder, Operation
from marsad.model.records import ThreatType as T


def phishing(bld: Builder, op: Operation) -> None:
    r = bld.rng
    sfx = bld.suffixes(op, 0.35)

    def label() -> str:
        a, b = r.choice(N.PHISH_VERBS), r.choice(N.PHISH_NOUNS)
        return f"{a}-{b}{bld.digits(0, 3)}" if r.random() < 0.6 else f"{b}{a}{bld.digits(1, 3)}"

    domains = [bld.add(op, "domain", bld.domain(label, sfx)) for _ in range(bld.size(150, 550))]
    for d in domains:
        host = bld.pool.items[d][1]
        for _ in range(r.choice((1, 1, 2))):
            path = f"{r.choice(N.PHISH_TARGETS)}/{r.choice(N.PHISH_PATHS)}"
            query = f"?id={r.randrange(10**5, 10**7)}" if r.random() < 0.3 else ""
            bld.add(op, "url", f"https://{host}/{path}{query}", bld.pool.birth[d])
    bld.hosting(
        op, domains, ips=r.randint(2, 6), registrants=r.randint(1, 3), tracking=r.randint(1, 3)
    )


def c2(bld: Builder, op: Operation) -> None:
    r = bld.rng

    def label() -> str:
        return "".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(7, 12)))

    tlds = ("top", "xyz", "net", "com", "info", "online")
    domains = [bld.add(op, "domain", bld.domain(label, tlds)) for _ in range(bld.size(10, 40))]
    bld.hosting(op, domains, ips=r.randint(3, 6), registrants=1)
    servers = [bld.add(op, "ipv4", bld.ip(op)) for _ in range(bld.size(20, 80))]
    samples = [bld.add(op, "sha256", ids.sha256(r)) for _ in range(bld.size(10, 60))]
    for i, sample in enumerate(samples):
        bld.pool.link(sample, "communicates-with", domains[i % len(domains)])
    for i, server in enumerate(servers):  # every server is contacted by some sample
        bld.pool.link(samples[i % len(samples)], "communicates-with", server)


def malware_distribution(bld: Builder, op: Operation) -> None:
    r = bld.rng

    def label() -> str:
        return f"{r.choice(N.SYLLABLES)}{r.choice(N.SYLLABLES)}{r.choice(('-cdn', '-files', 'share', '-dl', 'drive'))}{bld.digits(0, 2)}"

    domains = [
        bld.add(op, "domain", bld.domain(label, N.GENERIC_SUFFIXES))
        for _ in range(bld.size(30, 110))
    ]
    urls = []
    for d in domains:
        for _ in range(r.randint(2, 4)):
            name = (
                f"{r.choice(N.MALWARE_FILES)}_{r.randrange(1000, 99999)}.{r.choice(N.MALWARE_EXTS)}"
            )
            urls.append(bld.add(op, "url", f"https://{bld.pool.items[d][1]}/download/{name}"))
    bld.hosting(op, domains, ips=r.randint(4, 10))
    for ip in [t for tag, t in op.links if tag == "ip"]:
        for arch in r.sample(N.BOT_ARCHES, r.randint(1, 3)):
            urls.append(bld.add(op, "url", f"http://{bld.pool.items[ip][1]}/bins/{arch}"))
    for i in range(bld.size(30, 150)):
        sample = bld.add(op, "sha256", ids.sha256(r))
        bld.pool.link(sample, "downloaded-from", urls[i % len(urls)])


def investment_scam(bld: Builder, op: Operation) -> None:
    r = bld.rng

    def label() -> str:
        return f"{r.choice(N.FIN_PREFIXES)}{r.choice(N.FIN_SUFFIXES)}{bld.digits(0, 2)}"

    sfx = ("com", "net", "io", "xyz", "top", "vip", "pro", "com")
    domains = [bld.add(op, "domain", bld.domain(label, sfx)) for _ in range(bld.size(20, 100, 8))]
    for d in domains:
        if r.random() < 0.5:
            bld.add(
                op,
                "url",
                f"https://{bld.pool.items[d][1]}/register?ref={r.randrange(10**4, 10**6)}",
            )
    bld.hosting(op, domains, ips=r.randint(2, 5), tracking=r.randint(1, 2))
    bld.wallets(op, domains, r.randint(3, 8))
    where = op.victims + SCAM_PHONE_COUNTRIES
    bld.spread(
        op,
        domains,
        "lists-contact",
        "phone",
        r.randint(5, 15),
        lambda: ("phone", ids.phone(r, r.choice(where))),
    )
    bld.spread(
        op,
        domains,
        "receives-payments-to",
        "iban",
        r.randint(3, 10),
        lambda: ("iban", bld.mule_iban()),
    )


def romance_scam(bld: Builder, op: Operation) -> None:
    r = bld.rng

    def label() -> str:
        return f"{r.choice(N.ROMANCE_WORDS)}{r.choice(N.ROMANCE_NOUNS)}{bld.digits(0, 2)}"

    domains = [
        bld.add(op, "domain", bld.domain(label, bld.suffixes(op, 0.3)))
        for _ in range(bld.size(6, 20))
    ]
    emails = [bld.add(op, "email", bld.person_email()) for _ in range(bld.size(15, 50))]
    bld.hosting(op, domains, ips=r.randint(1, 3), registrants=1)
    where = ("NG", "GH", "MY", "PH", *op.victims)
    bld.spread(
        op,
        domains + emails,
        "lists-contact",
        "phone",
        r.randint(10, 40),
        lambda: ("phone", ids.phone(r, r.choice(where))),
    )
    bld.wallets(op, domains, r.randint(1, 3))
    bld.spread(
        op,
        emails,
        "receives-payments-to",
        "iban",
        r.randint(2, 6),
        lambda: ("iban", bld.mule_iban()),
    )


def bec(bld: Builder, op: Operation) -> None:
    r = bld.rng
    word, kind = r.choice(N.COMPANY_WORDS), r.choice(N.COMPANY_KINDS)
    shapes = (
        f"{word}-{kind}",
        f"{word}{kind}s",
        f"{word}{kind}-invoices",
        f"{word}-{kind}-pay",
        f"{word}{kind}{bld.digits(1, 2)}",
        f"{word}{kind[:-1]}",
        f"{word}-{kind}-au",
    )

    def label() -> str:
        return r.choice(shapes) + (bld.digits(1, 2) if r.random() < 0.5 else "")

    domains = [
        bld.add(op, "domain", bld.domain(label, bld.suffixes(op, 0.5)))
        for _ in range(bld.size(8, 30))
    ]
    emails = [
        bld.add(op, "email", f"{r.choice(N.MAIL_ROLES)}@{bld.pool.items[d][1]}")
        for d in domains
        for _ in range(r.randint(1, 2))
    ]
    emails += [bld.add(op, "email", bld.person_email()) for _ in range(r.randint(3, 10))]
    bld.hosting(op, domains, ips=r.randint(1, 3))
    bld.spread(
        op,
        emails,
        "receives-payments-to",
        "iban",
        r.randint(4, 15),
        lambda: ("iban", bld.mule_iban()),
    )
    bld.spread(
        op,
        emails,
        "lists-contact",
        "phone",
        r.randint(2, 6),
        lambda: ("phone", ids.phone(r, r.choice(op.victims))),
    )


def piracy(bld: Builder, op: Operation) -> None:
    r = bld.rng
    domains: list[int] = []
    for _ in range(r.randint(1, 3)):
        brand = f"{r.choice(N.STREAM_WORDS)}{r.choice(N.STREAM_SUFFIXES)}"
        chain: list[int] = []
        day = op.start
        for hop in range(bld.size(5, 25, 3)):
            name = bld.domain(f"{brand}{hop or ''}", N.PIRACY_SUFFIXES)
            site = bld.add(op, "domain", name, birth=min(day, op.end))
            if chain:
                bld.pool.link(chain[-1], "redirects-to", site)
            chain.append(site)
            if r.random() < 0.4:
                kind = r.choice(("mirror", "proxy", "unblock"))
                mirror = bld.domain(f"{brand}-{kind}{bld.digits(0, 2)}", N.PIRACY_SUFFIXES)
                bld.pool.link(
                    bld.add(op, "domain", mirror, birth=min(day, op.end)), "mirror-of", site
                )
            if r.random() < 0.3:
                bld.add(
                    op,
                    "url",
                    f"https://{name}/watch/{r.choice(N.STREAM_WORDS)}-{r.randrange(100, 9999)}",
                    min(day, op.end),
                )
            day += r.randint(4, 14)
        domains += [m for m in op.members if bld.pool.items[m][0] == "domain" and m not in domains]
        bld.spread(
            op,
            chain,
            "uses-tracking-id",
            "tracking-id",
            1,
            lambda: ("tracking-id", ids.tracking_id(r)),
        )
    bld.hosting(op, domains, ips=r.randint(2, 6), registrants=1)
    bld.wallets(op, domains, r.randint(1, 2))


RECIPES: dict[T, Callable[[Builder, Operation], None]] = {
    T.PHISHING: phishing,
    T.C2: c2,
    T.MALWARE_DISTRIBUTION: malware_distribution,
    T.INVESTMENT_SCAM: investment_scam,
    T.ROMANCE_SCAM: romance_scam,
    T.BEC: bec,
    T.PIRACY: piracy,
}
