"""The relational schema: one definition for SQLite and PostgreSQL.

Alembic migrations in `migrations/versions` build it; a test checks that the migrated
database and this metadata never drift apart. Handling columns are repeated on every
table that holds what a source said (assertions, entities, relationships), because
handling travels with the statement, not with the value.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; INTEGER on SQLite so the column aliases the rowid."""


def _handling_columns() -> list[Column[object]]:
    return [
        Column("tlp", SmallInteger, nullable=False),  # TLP rank: 0 CLEAR … 4 RED
        Column("pap", SmallInteger, nullable=False),  # PAP rank: 0 CLEAR … 3 RED
        Column("releasable_to", Text, nullable=False, server_default="[]"),  # JSON tokens
        Column("reliability", String(1), nullable=False),
        Column("credibility", SmallInteger, nullable=False),
        Column("purpose", String(40), nullable=False),
        Column("retain_until", Date, nullable=True),
        Column("review_at", Date, nullable=True),
    ]


organisations = Table(
    "organisations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("country", String(2), nullable=True),
    Column("region", String(40), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # A national sub-unit points at its parent unit: TLP:AMBER to the parent reaches it.
    Column("parent_org_id", Id, ForeignKey("organisations.id"), nullable=True),
)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("filename", String(500), nullable=True),
    Column("format", String(40), nullable=True),
    # pending: raw kept, records not (yet) in; ingested; rejected (strict mode or unreadable)
    Column("status", String(20), nullable=False),
    Column("defaults", Text, nullable=False),  # JSON of the submission's default Handling
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("records", Integer, nullable=False, server_default="0"),
    Column("accepted", Integer, nullable=False, server_default="0"),
    Column("merged", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("entities", Integer, nullable=False, server_default="0"),
    Column("relationships", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    UniqueConstraint("source_org_id", "sha256"),
    Index(None, "completed_at", "id"),  # TAXII date_added order (migration 0003)
)

observables = Table(
    "observables",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("type", String(20), nullable=False),
    Column("value", Text, nullable=False),
    Column("registered_domain", String(253), nullable=True),
    UniqueConstraint("type", "value"),
    Index(None, "registered_domain"),
)

assertions = Table(
    "assertions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("observable_id", Id, ForeignKey("observables.id"), nullable=False),
    Column("source_org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("owner_org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("threat_type", String(40), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=True),
    Column("last_seen", DateTime(timezone=True), nullable=True),
    Column("sightings", Integer, nullable=False),
    Column("confidence", SmallInteger, nullable=True),
    *_handling_columns(),
    Column("first_submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("last_submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("location", Text, nullable=False),
    Column("stix_id", String(100), nullable=True),
    Column("name", Text, nullable=True),
    Column("description", Text, nullable=True),
    # Set when the source revoked the statement (STIX ``revoked``); never cleared (0003).
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # The owner lets viewers who may not see it learn that a record exists and whom to ask
    # (correlation and bulk match show "a record exists: ask OWNER", nothing else) (0007).
    Column("disclose_exists", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("observable_id", "source_org_id", "threat_type"),
    Index(None, "source_org_id", "threat_type"),
    Index(None, "last_submission_id", "id"),  # TAXII keyset paging (0003)
)

assertion_sources = Table(
    "assertion_sources",
    metadata,
    Column("assertion_id", Id, ForeignKey("assertions.id"), primary_key=True),
    Column("submission_id", Id, ForeignKey("submissions.id"), primary_key=True),
    Column("location", Text, nullable=False),
    Column("sightings", Integer, nullable=False),
    Index(None, "submission_id"),
)

entities = Table(
    "entities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ref", String(100), nullable=False),
    Column("kind", String(60), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("attributes", Text, nullable=False),  # JSON
    Column("source_org_id", Id, ForeignKey("organisations.id"), nullable=False),
    *_handling_columns(),
    Column("first_seen", DateTime(timezone=True), nullable=True),
    Column("last_seen", DateTime(timezone=True), nullable=True),
    Column("first_submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("last_submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("location", Text, nullable=False),
    UniqueConstraint("ref", "source_org_id"),
    Index(None, "kind"),
)

relationships = Table(
    "relationships",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_ref", Text, nullable=False),
    Column("type", String(60), nullable=False),
    Column("target_ref", Text, nullable=False),
    Column("source_org_id", Id, ForeignKey("organisations.id"), nullable=False),
    *_handling_columns(),
    Column("stix_id", String(100), nullable=True),
    Column("attributes", Text, nullable=False),  # JSON
    Column("first_seen", DateTime(timezone=True), nullable=True),
    Column("last_seen", DateTime(timezone=True), nullable=True),
    Column("count", Integer, nullable=False),
    Column("first_submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("last_submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("location", Text, nullable=False),
    UniqueConstraint("source_ref", "type", "target_ref", "source_org_id"),
    Index(None, "target_ref"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("location", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Index(None, "submission_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=True),  # argon2; NULL: token-only account
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True),
    Column("role", String(40), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # sha256 of a 256-bit random secret: a slow hash adds nothing to that entropy.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("role", String(40), nullable=False),
    Column("label", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # Written at most once a minute per token (0009): not a write on every request.
    Column("last_used_at", DateTime(timezone=True), nullable=True),
)

agreements = Table(
    "agreements",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True),
    Column("defaults", Text, nullable=False),  # JSON of the default Handling of its data
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),  # user name, or "local-operator"
    Column("org", String(200), nullable=True),
    Column("action", String(40), nullable=False),
    Column("target", Text, nullable=False),
    Column("purpose", String(40), nullable=True),
    Column("outcome", String(10), nullable=False),  # allow | deny
    Column("details", Text, nullable=False),  # JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "at"),
)

instance_state = Table(
    "instance_state",
    metadata,
    # Small facts of this instance: its TAXII id prefix, federation bookmarks (0003).
    Column("key", String(400), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

clusters = Table(
    "clusters",
    metadata,
    # The id is the observable id of the cluster's oldest member: stable while it stays.
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("size", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)

cluster_members = Table(
    "cluster_members",
    metadata,
    Column("observable_id", Id, ForeignKey("observables.id"), primary_key=True),
    Column("cluster_id", Id, ForeignKey("clusters.id"), nullable=False),
    Index(None, "cluster_id"),
)

analysis_state = Table(
    "analysis_state",
    metadata,
    # What the last `marsad analyse` covered, so the next one reads only what came after (0008).
    Column("id", SmallInteger, primary_key=True, autoincrement=False),  # one row: 1
    Column("run", Integer, nullable=False),  # bumped by each run: two runs never both write
    Column("mode", String(20), nullable=False),  # full | incremental
    Column("rule", Text, nullable=False),  # JSON of the hub rule the clusters were made with
    # Highest ids analysed, and on PostgreSQL how many rows lay at or below them (a difference
    # later means rows were committed out of id order: the next run is a full one).
    Column("submission_id", Id, nullable=False),
    Column("assertion_id", Id, nullable=False),
    Column("relationship_id", Id, nullable=False),
    Column("observable_id", Id, nullable=False),
    Column("assertions", BigInteger, nullable=False),
    Column("relationships", BigInteger, nullable=False),
    Column("graph", LargeBinary, nullable=False),  # the analysed graph and its labels (.npz)
    Column("analysed_at", DateTime(timezone=True), nullable=False),
)

watchlists = Table(
    "watchlists",
    metadata,
    # What an organisation wants to be alerted about (migration 0005).
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # country|asn|cidr|cctld|domain|keyword|…
    Column("value", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "kind", "value"),
)

alert_channels = Table(
    "alert_channels",
    metadata,
    # Where an organisation's alerts go besides the application: a webhook or an e-mail.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("kind", String(10), nullable=False),  # webhook | email
    Column("target", String(500), nullable=False),
    Column("secret", String(200), nullable=True),  # HMAC key of a webhook
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "kind", "target"),
)

alerts = Table(
    "alerts",
    metadata,
    # One alert per organisation and observable: later assertions about it add evidence.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("observable_id", Id, ForeignKey("observables.id"), nullable=False),
    Column("assertion_id", Id, ForeignKey("assertions.id"), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of the watchlist entries matched
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivery", Text, nullable=False, server_default="{}"),  # JSON channel -> outcome
    Column("acked_at", DateTime(timezone=True), nullable=True),
    Column("acked_by", String(200), nullable=True),
    UniqueConstraint("org_id", "observable_id"),
    Index(None, "org_id", "acked_at"),
)

alert_evidence = Table(
    "alert_evidence",
    metadata,
    # Each assertion that matched an alert's watchlists (0006); read through the policy
    # again at every listing, so evidence the owner has since restricted disappears.
    Column("alert_id", Id, ForeignKey("alerts.id"), primary_key=True),
    Column("assertion_id", Id, ForeignKey("assertions.id"), primary_key=True),
    Column("submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of the watchlist entries matched
    Column("added_at", DateTime(timezone=True), nullable=False),
)

alert_runs = Table(
    "alert_runs",
    metadata,
    # Submissions already evaluated against the watchlists (0006): `marsad alerts run`
    # takes the others.
    Column(
        "submission_id", Id, ForeignKey("submissions.id"), primary_key=True, autoincrement=False
    ),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
    Column("raised", Integer, nullable=False),
    Column("evidence", Integer, nullable=False),
)

sightings = Table(
    "sightings",
    metadata,
    # An organisation's bulk match found this assertion's value in its own data (0007): the
    # owner learns its record was seen, by whom, how often and when.
    Column("assertion_id", Id, ForeignKey("assertions.id"), primary_key=True),
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Index(None, "org_id"),
)

actions_taken = Table(
    "actions_taken",
    metadata,
    # What an organisation did about an assertion it could see (0009): feedback to the
    # record's owner and source, shown through the policy's `may_see_action`.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("assertion_id", Id, ForeignKey("assertions.id"), nullable=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("actor", String(200), nullable=False),  # user name, or "local-operator"
    Column("kind", String(40), nullable=False),  # marsad.model.actions.ActionKind
    Column("note", Text, nullable=True),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Index(None, "assertion_id"),
    Index(None, "org_id", "id"),
)
