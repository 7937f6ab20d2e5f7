"""The organisations and recipient tokens the policy property tests draw from.

Names full of LIKE wildcards, quotes and backslashes, a prefix of another name, names and
tokens that differ only in case (SQLite's LIKE ignores ASCII case), nested national
sub-units: the shapes that would break a SQL predicate built by string matching.
"""

from __future__ import annotations

from marsad.model.handling import Region

ORGS = [  # name, kind, region, parent
    ("Fiji CCU", "national-cyber-unit", "asia-south-pacific", None),
    ("Fiji", "national-cyber-unit", "asia-south-pacific", None),
    ("Suva Cyber Desk", "national-cyber-unit", "asia-south-pacific", "Fiji CCU"),
    ("Lautoka Post", "national-cyber-unit", "asia-south-pacific", "Suva Cyber Desk"),
    ("ASP Desk", "regional-desk", "asia-south-pacific", None),
    ("Global Hub", "hub", "europe", None),
    ("France OFAC", "national-cyber-unit", "europe", None),
    ("PhishGuard", "private-partner", "asia-south-pacific", None),
    ('A_B 100% "safe" \\ co', "private-partner", None, None),
    ('AxB 1000 "safe" \\ co', "national-cyber-unit", "africa", None),
    ("FIJI CCU", "national-cyber-unit", "asia-south-pacific", None),  # differs only in case
]
TOKENS = (
    [f"org:{name}" for name, *_ in ORGS]
    + [f"region:{r.value}" for r in Region]
    + ["members", "partners", "org:Nobody", "org:Fiji C", "org:fiji ccu"]
)
