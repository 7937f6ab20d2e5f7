"""Word lists and reference tables of the demo world; generated names are built from these.

Everything here is invented except country codes, public suffixes, and the brands that
phishing kits imitate, which appear only in URL paths as the kits' targets.
"""

from __future__ import annotations

# Member countries of the Asia & South Pacific region: ISO code -> national unit name.
UNITS: dict[str, str] = {
    "AU": "Australian Police Cybercrime Unit",
    "NZ": "New Zealand Police Cybercrime Unit",
    "FJ": "Fiji Police Cybercrime Unit",
    "PG": "Papua New Guinea Police Cybercrime Unit",
    "WS": "Samoa Police Cybercrime Unit",
    "TO": "Tonga Police Cybercrime Unit",
    "VU": "Vanuatu Police Cybercrime Unit",
    "SB": "Solomon Islands Police Cybercrime Unit",
    "ID": "Indonesia Police Cybercrime Directorate",
    "MY": "Malaysia Police Cybercrime Unit",
    "SG": "Singapore Police Cybercrime Command",
    "TH": "Thailand Police Cybercrime Bureau",
    "PH": "Philippines Police Anti-Cybercrime Group",
    "VN": "Viet Nam Police Cybercrime Department",
    "KH": "Cambodia Police Cybercrime Unit",
    "LA": "Lao Police Cybercrime Unit",
    "IN": "India Police Cybercrime Unit",
    "LK": "Sri Lanka Police Cybercrime Unit",
    "JP": "Japan Police Cybercrime Unit",
    "KR": "Korea Police Cyber Bureau",
}

# Country-code second-level suffixes for domains aimed at a member country's victims.
COUNTRY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "AU": ("com.au", "net.au"),
    "NZ": ("co.nz", "net.nz"),
    "FJ": ("com.fj",),
    "PG": ("com.pg",),
    "WS": ("ws",),
    "TO": ("to",),
    "VU": ("vu",),
    "SB": ("com.sb",),
    "ID": ("co.id", "web.id"),
    "MY": ("com.my",),
    "SG": ("com.sg",),
    "TH": ("co.th", "in.th"),
    "PH": ("com.ph", "ph"),
    "VN": ("com.vn", "vn"),
    "KH": ("com.kh",),
    "LA": ("la",),
    "IN": ("in", "co.in"),
    "LK": ("lk",),
    "JP": ("jp", "co.jp"),
    "KR": ("kr", "co.kr"),
}
GENERIC_SUFFIXES = ("com", "net", "org", "xyz", "top", "online", "site", "shop", "info", "cc")
PIRACY_SUFFIXES = ("xyz", "cc", "to", "tv", "me", "io", "pw", "club", "live", "net")

# Where criminal infrastructure is hosted: country -> synthetic /16 prefixes ("a.b").
HOSTING: dict[str, tuple[str, ...]] = {
    "NL": ("5.188", "31.3", "37.97", "185.209"),
    "DE": ("46.4", "78.46", "88.198", "144.76"),
    "US": ("45.33", "66.42", "107.172", "162.243"),
    "RU": ("5.45", "31.31", "91.215", "185.22"),
    "SG": ("103.253", "128.199", "139.59"),
    "HK": ("103.106", "119.28", "156.251"),
    "MY": ("103.6", "175.139", "202.75"),
    "VN": ("14.225", "103.97", "113.161"),
    "ID": ("36.66", "103.28", "182.23"),
    "AU": ("1.152", "103.1", "139.130"),
    "KH": ("103.216", "116.212"),
    "PH": ("112.198", "122.2"),
    "TH": ("49.228", "171.96"),
    "BG": ("77.70", "185.162"),
    "MD": ("176.123", "185.181"),
    "SC": ("196.196", "41.216"),
}

# Benign hubs many unrelated domains share: clustering must prune them, never merge on them.
CDN_IPS = ("198.51.100.10", "198.51.100.11", "203.0.113.80")
PARKING_NS = ("ns1.parking-hub.net", "ns2.parking-hub.net")
PRIVACY_EMAIL = "redacted@whois-privacy-proxy.net"

# Operator aliases: adjective + animal, as threat-intelligence vendors name groups.
OPERATOR_ADJECTIVES = (
    "Coral", "Jade", "Monsoon", "Typhoon", "Saffron", "Obsidian", "Cobalt", "Crimson",
    "Silent", "Lunar", "Tidal", "Ember", "Golden", "Ivory", "Scarlet", "Velvet", "Azure",
    "Copper", "Shadow", "Amber", "Frost", "Storm", "Onyx", "Indigo",
)  # fmt: skip
OPERATOR_ANIMALS = (
    "Viper", "Cassowary", "Gecko", "Barracuda", "Kraken", "Heron", "Mantis", "Dingo",
    "Marlin", "Tapir", "Cobra", "Kestrel", "Monitor", "Octopus", "Komodo", "Frigatebird",
    "Tarsier", "Pangolin", "Hornbill", "Stingray", "Macaque", "Lynx", "Orca", "Wombat",
)  # fmt: skip
CAMPAIGN_WORDS = (
    "Tidewater", "Lantern", "Reef", "Harbour", "Outrigger", "Atoll", "Lagoon", "Kite",
    "Compass", "Banyan", "Monolith", "Trellis", "Sampan", "Mangrove", "Pagoda", "Cinder",
)  # fmt: skip

# Domain words per kind of operation.
PHISH_VERBS = ("secure", "verify", "login", "account", "update", "signin", "auth", "confirm",
               "portal", "my", "online", "web", "support", "help", "billing", "access")  # fmt: skip
PHISH_NOUNS = ("banking", "wallet", "pay", "service", "center", "customer", "member",
               "delivery", "parcel", "refund", "tax", "rewards", "id", "identity", "mail",
               "cloud", "docs", "office", "track", "notice")  # fmt: skip
PHISH_TARGETS = (
    "anz", "westpac", "commbank", "nab", "kiwibank", "bsp", "maybank", "cimb", "dbs",
    "ocbc", "bdo", "bpi", "vietcombank", "paypal", "microsoft365", "netflix", "auspost",
    "nzpost", "mygov", "singpass", "gcash", "dhl",
)  # fmt: skip
PHISH_PATHS = ("login", "signin", "verify", "secure/login", "account/update", "auth",
               "webscr", "confirm", "billing", "track/parcel")  # fmt: skip

FIN_PREFIXES = ("apex", "gold", "crest", "quantum", "summit", "harbor", "pacific", "royal",
                "prime", "zenith", "vertex", "meridian", "atlas", "sterling", "orient", "lotus")  # fmt: skip
FIN_SUFFIXES = ("fx", "capital", "trade", "invest", "markets", "coin", "bit", "yield",
                "assets", "wealth", "exchange", "mining", "crypto", "futures")  # fmt: skip
ROMANCE_WORDS = ("lovely", "sweet", "heart", "soul", "true", "dream", "forever", "kindred",
                 "sunset", "island", "pearl", "angel", "honey", "spark")  # fmt: skip
ROMANCE_NOUNS = ("dates", "match", "singles", "mingle", "connect", "companion", "love",
                 "meet", "chat", "friends")  # fmt: skip
COMPANY_WORDS = ("kiwi", "coral", "southern", "reef", "pacific", "harbour", "island",
                 "summit", "tasman", "lagoon", "trade", "metro", "delta", "apex", "unity")  # fmt: skip
COMPANY_KINDS = ("freight", "logistics", "shipping", "supplies", "holdings", "traders",
                 "engineering", "imports", "exports", "builders", "foods", "timber")  # fmt: skip
MAIL_ROLES = ("accounts", "invoices", "finance", "ceo", "payments", "billing", "admin",
              "director", "procurement", "payroll")  # fmt: skip
FIRST_NAMES = ("james", "sophia", "daniel", "grace", "michael", "anna", "david", "lily",
               "robert", "emma", "kevin", "mia", "william", "olivia", "henry", "chloe")  # fmt: skip
LAST_NAMES = ("smith", "tan", "nguyen", "wilson", "lee", "santos", "kumar", "brown",
              "walker", "lim", "reyes", "taylor", "wong", "garcia", "chen", "martin")  # fmt: skip
STREAM_WORDS = ("flix", "stream", "watch", "anime", "movie", "tv", "sport", "cine", "drama",
                "kdrama", "iptv", "live", "series", "torrent", "kiss", "goku", "cricket")  # fmt: skip
STREAM_SUFFIXES = ("hd", "4k", "hub", "zone", "now", "plus", "max", "free", "bay", "online")  # fmt: skip
MAIL_HOSTS = ("fastpost-mail.com", "inbox-now.net", "mailbox-asia.com", "securepost.cc",
              "quickmail.xyz", "postbox-pacific.net")  # fmt: skip
SYLLABLES = ("ka", "zo", "mi", "tr", "ex", "qu", "vo", "ln", "pr", "xa", "ze", "bo", "ry",
             "ut", "ok", "fi", "sn", "dr", "wi", "ga")  # fmt: skip
MALWARE_FILES = ("invoice", "payment", "scan", "order", "receipt", "update", "setup",
                 "document", "shipping", "statement")  # fmt: skip
MALWARE_EXTS = ("exe", "zip", "js", "iso", "msi", "apk", "lnk", "vbs")
BOT_ARCHES = ("x86", "arm7", "mips", "mpsl", "arm", "sh4")
