"""Sharing agreements: the handling an organisation's data gets unless it asks for stricter.

A private partner's agreement (or a member unit's own defaults) is a floor. A submission
may tighten it — a stricter TLP or PAP, an earlier retention date, fewer recipients — but
never loosen it: recipients beyond the agreement's list are refused outright rather than
quietly trimmed, so the submitter knows what happened.
"""

from __future__ import annotations

import datetime as dt

from marsad.ingest.batch import SubmissionDefaults
from marsad.model.errors import MarsadError
from marsad.model.handling import (
    Handling,
    Purpose,
    Releasability,
    stricter_pap,
    stricter_tlp,
)

_UNJUDGED = Handling()


class AgreementViolation(MarsadError):
    """A submission asks for looser handling than its source's agreement allows."""


def _earlier(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def apply_agreement(agreement: Handling, asked: SubmissionDefaults) -> SubmissionDefaults:
    """The submission's effective defaults under its source's agreement."""
    mine = asked.handling
    agreed = set(agreement.releasable_to.tokens())
    wanted = set(mine.releasable_to.tokens())
    if agreed and wanted - agreed:
        raise AgreementViolation(
            "the submission releases to "
            + ", ".join(sorted(wanted - agreed))
            + " beyond its source's agreement ("
            + ", ".join(sorted(agreed))
            + ")"
        )
    releasable = mine.releasable_to if wanted else agreement.releasable_to
    tlp_floor = stricter_tlp(asked.tlp_floor or agreement.tlp, agreement.tlp)
    pap_floor = stricter_pap(asked.pap_floor or agreement.pap, agreement.pap)
    handling = Handling(
        tlp=stricter_tlp(mine.tlp, agreement.tlp),
        pap=stricter_pap(mine.pap, agreement.pap),
        releasable_to=Releasability.from_tokens(sorted(releasable.tokens())),
        reliability=(
            agreement.reliability if mine.reliability == _UNJUDGED.reliability else mine.reliability
        ),
        credibility=(
            agreement.credibility if mine.credibility == _UNJUDGED.credibility else mine.credibility
        ),
        purpose=mine.purpose if mine.purpose != Purpose.THREAT_ANALYSIS else agreement.purpose,
        retain_until=_earlier(mine.retain_until, agreement.retain_until),
        review_at=_earlier(mine.review_at, agreement.review_at),
    )
    return SubmissionDefaults(handling=handling, tlp_floor=tlp_floor, pap_floor=pap_floor)
