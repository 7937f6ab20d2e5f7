"""Large, realistic public-feed files for bench/feeds.py, grown from the real fixture rows.

Each generator reads the IntelMQ test inputs copied into ``tests/data/intelmq`` (never
``../shared``), keeps their layout, columns and value shapes, and replicates their rows
with fresh, unique IPs, hosts and URLs from a seeded RNG, so every run writes the same
bytes and no value repeats (a repeat would let one side merge work the other does).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
import random
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "intelmq"

# First octets of public, routed /8s: generated addresses never fall in special ranges.
PUBLIC_OCTETS = (23, 31, 37, 45, 51, 62, 77, 83, 91, 103, 142, 176, 185, 193, 204, 212)
WORDS = (
    "secure", "login", "verify", "account", "update", "docs", "bank", "mail", "cloud",
    "portal", "invoice", "office", "files", "cdn", "wp", "shop", "pay", "id", "support", "web",
)  # fmt: skip
TLDS = ("com", "net", "org", "ch", "de", "ru", "top", "xyz", "info", "co.uk", "com.br", "site")
PAYLOADS = ("bins/mozi.m", "i", "x86", "sora.arm7", "invoice.doc", "update.exe", "wp-content/a.zip")
COUNTRIES = ("US", "DE", "FR", "NL", "RU", "CN", "KR", "BR", "CH", "GB", "IN", "VN")
MALWARE = ("Dridex", "Emotet", "QakBot", "TrickBot", "BumbleBee", "Pikabot", "IcedID")
TARGETS = ("Other", "AEON Card", "PayPal", "Microsoft", "Facebook", "Netflix", "DHL")
EPOCH = dt.datetime(2022, 11, 1)


def ipv4(i: int) -> str:
    """The i-th generated public IPv4 address (unique for i < 2**28)."""
    rest = i // len(PUBLIC_OCTETS) + 1
    return (
        f"{PUBLIC_OCTETS[i % len(PUBLIC_OCTETS)]}.{rest >> 16 & 255}.{rest >> 8 & 255}.{rest & 255}"
    )


def host(rng: random.Random, i: int) -> str:
    """A fresh, unique host name in the shape phishing and malware hosts have."""
    return f"{rng.choice(WORDS)}-{rng.choice(WORDS)}{i}.{rng.choice(TLDS)}"


def _stamp(i: int, rng: random.Random) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=i * 7 + rng.randrange(7))


def urlhaus(n: int, rng: random.Random) -> bytes:
    """URLhaus TLD/country CSV: the fixture's comment banner and columns, N rows."""
    lines = (FIXTURES / "abusech" / "urlhaus.txt").read_text().splitlines()
    banner = [line for line in lines if line.startswith("#") and "of entries" not in line]
    rows = []
    for i in range(n):
        ip = ipv4(i)
        if i % 5 < 2:  # URLhaus is dominated by bare-IP payload URLs (IoT droppers)
            name, url = (
                ip,
                f"http://{ip}:{rng.choice((80, 8080, 37215, 52869))}/{rng.choice(PAYLOADS)}",
            )
        else:
            name = host(rng, i)
            url = f"http://{name}/{rng.choice(WORDS)}.{rng.choice(WORDS)}.{rng.choice(TLDS)}/"
        status = "online" if rng.random() < 0.3 else "offline"
        rows.append(
            f"{_stamp(i, rng):%Y-%m-%d %H:%M:%S},{url},{status},malware_download,{name},{ip},"
            f"{rng.randrange(1000, 64000)},{rng.choice(COUNTRIES)}"
        )
    return "\n".join([*banner, *rows, f"# of entries: {n}", ""]).encode()


def feodo(n: int, rng: random.Random) -> bytes:
    """Feodo Tracker ipblocklist.json: the fixture's entries replicated with fresh IPs."""
    templates = json.loads(
        (FIXTURES / "abusech" / "test_parser_feodotracker.INPUT.json").read_bytes()
    )
    out = []
    for i in range(n):
        entry = dict(templates[i % len(templates)])
        ip = ipv4(i)
        entry["ip_address"] = ip
        entry["port"] = rng.choice((443, 447, 449, 2222, 4643, 6601, 8080))
        entry["status"] = "online" if rng.random() < 0.4 else "offline"
        entry["hostname"] = None if rng.random() < 0.3 else f"ip-{ip.replace('.', '-')}.example.net"
        entry["country"] = rng.choice(COUNTRIES)
        entry["malware"] = rng.choice(MALWARE)
        seen = _stamp(i, rng)
        if "first_seen" in entry:  # the fixture's last entry has none: keep that shape
            entry["first_seen"] = f"{seen:%Y-%m-%d %H:%M:%S}"
        entry["last_online"] = f"{seen + dt.timedelta(days=rng.randrange(400)):%Y-%m-%d}"
        out.append(entry)
    return json.dumps(out, indent=4).encode()


def phishtank(n: int, rng: random.Random) -> bytes:
    """PhishTank online-valid.json: the fixture's entries with fresh URLs, ids and hosting IPs."""
    templates = json.loads((FIXTURES / "phishtank" / "test_parser.INPUT.json").read_bytes())
    out = []
    for i in range(n):
        entry = json.loads(json.dumps(templates[i % len(templates)]))
        phish_id = str(7946016 + i)
        path = "" if rng.random() < 0.5 else f"{rng.choice(WORDS)}/{rng.choice(WORDS)}.php"
        submitted = _stamp(i, rng).replace(tzinfo=dt.UTC)
        entry.update(
            phish_id=phish_id,
            url=f"https://{host(rng, i)}/{path}",
            phish_detail_url=f"http://www.phishtank.com/phish_detail.php?phish_id={phish_id}",
            submission_time=submitted.isoformat(),
            verification_time=(submitted + dt.timedelta(minutes=4)).isoformat(),
            target=rng.choice(TARGETS),
        )
        ip = ipv4(i)
        prefix = rng.choice((16, 19, 22, 24))
        for detail in entry["details"]:
            detail.update(
                ip_address=ip,
                cidr_block=str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False)),
                announcing_network=str(rng.randrange(1000, 64000)),
                country=rng.choice(COUNTRIES),
                detail_time=(submitted + dt.timedelta(minutes=5)).isoformat(),
            )
        out.append(entry)
    return json.dumps(out, indent=2).encode()


def spamhaus_drop(n: int, rng: random.Random) -> bytes:
    """Spamhaus DROP: the fixture's header, N unique netblocks (one in ten IPv6) with SBL ids."""
    lines = (FIXTURES / "spamhaus" / "drop.txt").read_text().splitlines()
    header = [line for line in lines if line.startswith(";")]
    rows = []
    for i in range(n):
        if i % 10 == 9:
            net = f"2a{i >> 16 & 255:02x}:{i & 0xFFFF:x}::/32"
        else:
            rest = i // len(PUBLIC_OCTETS) + 1
            net = f"{PUBLIC_OCTETS[i % len(PUBLIC_OCTETS)]}.{rest >> 8 & 255}.{rest & 255}.0/24"
        rows.append(f"{net} ; SBL{256893 + i * 3 + rng.randrange(3)}")
    return "\n".join([*header, *rows, ""]).encode()


def openphish(n: int, rng: random.Random) -> bytes:
    """OpenPhish feed.txt: one URL per line, the fixture's ``http://host/phishing`` shape."""
    lines = []
    for i in range(n):
        scheme = "https" if rng.random() < 0.7 else "http"
        path = rng.choice(("phishing", "login", f"{rng.choice(WORDS)}/{rng.choice(WORDS)}.html"))
        lines.append(f"{scheme}://{host(rng, i)}/{path}")
    return ("\n".join(lines) + "\n").encode()


def shadowserver_telnet(n: int, rng: random.Random) -> bytes:
    """Shadowserver scan_telnet CSV: the fixture's header and quoting, fresh IPs and banners."""
    with (FIXTURES / "shadowserver" / "scan_telnet.csv").open(newline="") as fh:
        header, *templates = list(csv.reader(fh))
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(header)
    for i in range(n):
        row: dict[str, object] = dict(zip(header, templates[i % len(templates)], strict=True))
        ip = ipv4(i)
        row.update(
            timestamp=f"{_stamp(i, rng):%Y-%m-%d %H:%M:%S}",
            ip=ip,
            port=rng.choice((23, 2323, 5678)),
            hostname=f"host-{ip.replace('.', '-')}.example.net",
            asn=rng.randrange(1000, 64000),
            geo=rng.choice(COUNTRIES),
            naics=0,
            sic=0,
            banner=f"|MikroTik v6.{rng.randrange(50)}.{rng.randrange(10)}|Login:",
        )
        writer.writerow([row[c] for c in header])
    return out.getvalue().encode()


Generator = Callable[[int, random.Random], bytes]
GENERATORS: dict[str, Generator] = {
    "urlhaus": urlhaus,
    "feodo": feodo,
    "phishtank": phishtank,
    "spamhaus": spamhaus_drop,
    "openphish": openphish,
    "shadowserver": shadowserver_telnet,
}


def write_feed(name: str, n: int, directory: Path, seed: int = 7) -> Path:
    """Generate feed ``name`` with N rows into ``directory``; the path it wrote."""
    path = directory / f"{name}.feed"
    path.write_bytes(GENERATORS[name](n, random.Random(f"{name}:{seed}")))
    return path
