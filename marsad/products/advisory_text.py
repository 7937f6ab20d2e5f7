"""The words of public awareness advisories, one entry per threat type (data, no logic).

Written for citizens and small companies: plain language, no case details, nothing that
depends on restricted data. The examples of indicators come from the store at run time.
"""

from __future__ import annotations

import msgspec

from marsad.products.language import DEFAULT, N_, gettext


class Advice(msgspec.Struct, frozen=True, kw_only=True):
    """What the public should know about one kind of crime."""

    title: str
    how: tuple[str, ...]
    signs: tuple[str, ...]
    todo: tuple[str, ...]


def in_language(advice: Advice, lang: str = DEFAULT) -> Advice:
    """The advice in ``lang`` (the products catalogue's words)."""
    _ = gettext(lang)
    return Advice(
        title=_(advice.title),
        how=tuple(_(p) for p in advice.how),
        signs=tuple(_(s) for s in advice.signs),
        todo=tuple(_(t) for t in advice.todo),
    )


ADVICE: dict[str, Advice] = {
    "investment-scam": Advice(
        title=N_("Investment scams: fake trading platforms and crypto 'opportunities'"),
        how=(
            N_(
                "Criminals advertise on social media, messaging apps and dating sites, often with "
                "fake endorsements by celebrities or news outlets."
            ),
            N_(
                "Victims are steered to a professional-looking trading website or app that shows "
                "invented profits on a small first deposit, sometimes with a small withdrawal that "
                "works, to build trust."
            ),
            N_(
                "Larger deposits follow, to bank accounts or crypto wallets controlled by the "
                "criminals; withdrawals are then refused until 'taxes' or 'fees' are paid."
            ),
        ),
        signs=(
            N_("Guaranteed or unusually high returns, or pressure to invest quickly."),
            N_(
                "Contact that started unsolicited, or moved from a dating or social app to a "
                "private chat."
            ),
            N_(
                "A platform that is not licensed by your financial regulator, or a website "
                "registered only weeks ago."
            ),
            N_(
                "Requests to pay in cryptocurrency, by gift card, or to a private person's account."
            ),
            N_("Fees demanded before you may withdraw your own money."),
        ),
        todo=(
            N_("Stop paying: money sent to recover losses is usually lost too."),
            N_("Keep the evidence: website addresses, wallet addresses, chats, receipts."),
            N_(
                "Report to your bank at once (a transfer can sometimes be stopped) and to the "
                "police cybercrime unit."
            ),
            N_(
                "Beware of 'recovery' services that contact you afterwards: they are often the "
                "same criminals."
            ),
        ),
    ),
    "romance-scam": Advice(
        title=N_("Romance scams: a relationship built to ask for money"),
        how=(
            N_(
                "A stranger builds an online relationship over weeks, on dating sites, social "
                "media or games, with stolen photos and a story that keeps them from meeting."
            ),
            N_(
                "Then an emergency, a travel cost, a customs fee or an 'investment' calls for money."
            ),
        ),
        signs=(
            N_("Quick declarations of love, and excuses never to meet or to video-call."),
            N_("Requests for money, gift cards, crypto, or to receive and forward payments."),
        ),
        todo=(
            N_("Never send money to someone you have not met in person."),
            N_("Search the photos in a reverse-image search; talk to someone you trust."),
            N_("Report the profile to the platform and to the police cybercrime unit."),
        ),
    ),
    "phishing": Advice(
        title=N_("Phishing: messages that steal passwords and card details"),
        how=(
            N_(
                "A message that looks like it comes from a bank, a delivery company or a public "
                "office links to a copy of a real login or payment page."
            ),
            N_("What you type there goes straight to the criminals, who use it at once."),
        ),
        signs=(
            N_("Urgency: an account blocked, a parcel held, a fine to pay today."),
            N_("A link whose address does not belong to the organisation, or a shortened link."),
        ),
        todo=(
            N_("Open your bank or the service by typing its address yourself, never via the link."),
            N_(
                "If you entered a password, change it now and turn on two-step verification; "
                "if you entered card details, call your bank."
            ),
            N_("Report the message to the police cybercrime unit or the national CERT."),
        ),
    ),
    "bec": Advice(
        title=N_("Business e-mail compromise: fake invoices and changed bank details"),
        how=(
            N_(
                "Criminals take over or imitate the e-mail of a supplier or manager and ask for a "
                "payment to a new bank account."
            ),
        ),
        signs=(
            N_("A change of bank details by e-mail, or an urgent, confidential payment request."),
        ),
        todo=(
            N_(
                "Confirm every change of bank details by telephone, using a number you already had."
            ),
            N_("If a payment went out, call your bank at once and report to the police."),
        ),
    ),
}
