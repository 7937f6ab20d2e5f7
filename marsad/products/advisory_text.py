"""The words of public awareness advisories, one entry per threat type (data, no logic).

Written for citizens and small companies: plain language, no case details, nothing that
depends on restricted data. The examples of indicators come from the store at run time.
"""

from __future__ import annotations

import msgspec


class Advice(msgspec.Struct, frozen=True, kw_only=True):
    """What the public should know about one kind of crime."""

    title: str
    how: tuple[str, ...]
    signs: tuple[str, ...]
    todo: tuple[str, ...]


ADVICE: dict[str, Advice] = {
    "investment-scam": Advice(
        title="Investment scams: fake trading platforms and crypto 'opportunities'",
        how=(
            "Criminals advertise on social media, messaging apps and dating sites, often with "
            "fake endorsements by celebrities or news outlets.",
            "Victims are steered to a professional-looking trading website or app that shows "
            "invented profits on a small first deposit, sometimes with a small withdrawal that "
            "works, to build trust.",
            "Larger deposits follow, to bank accounts or crypto wallets controlled by the "
            "criminals; withdrawals are then refused until 'taxes' or 'fees' are paid.",
        ),
        signs=(
            "Guaranteed or unusually high returns, or pressure to invest quickly.",
            "Contact that started unsolicited, or moved from a dating or social app to a "
            "private chat.",
            "A platform that is not licensed by your financial regulator, or a website "
            "registered only weeks ago.",
            "Requests to pay in cryptocurrency, by gift card, or to a private person's account.",
            "Fees demanded before you may withdraw your own money.",
        ),
        todo=(
            "Stop paying: money sent to recover losses is usually lost too.",
            "Keep the evidence: website addresses, wallet addresses, chats, receipts.",
            "Report to your bank at once (a transfer can sometimes be stopped) and to the "
            "police cybercrime unit.",
            "Beware of 'recovery' services that contact you afterwards: they are often the "
            "same criminals.",
        ),
    ),
    "romance-scam": Advice(
        title="Romance scams: a relationship built to ask for money",
        how=(
            "A stranger builds an online relationship over weeks, on dating sites, social "
            "media or games, with stolen photos and a story that keeps them from meeting.",
            "Then an emergency, a travel cost, a customs fee or an 'investment' calls for money.",
        ),
        signs=(
            "Quick declarations of love, and excuses never to meet or to video-call.",
            "Requests for money, gift cards, crypto, or to receive and forward payments.",
        ),
        todo=(
            "Never send money to someone you have not met in person.",
            "Search the photos in a reverse-image search; talk to someone you trust.",
            "Report the profile to the platform and to the police cybercrime unit.",
        ),
    ),
    "phishing": Advice(
        title="Phishing: messages that steal passwords and card details",
        how=(
            "A message that looks like it comes from a bank, a delivery company or a public "
            "office links to a copy of a real login or payment page.",
            "What you type there goes straight to the criminals, who use it at once.",
        ),
        signs=(
            "Urgency: an account blocked, a parcel held, a fine to pay today.",
            "A link whose address does not belong to the organisation, or a shortened link.",
        ),
        todo=(
            "Open your bank or the service by typing its address yourself, never via the link.",
            "If you entered a password, change it now and turn on two-step verification; "
            "if you entered card details, call your bank.",
            "Report the message to the police cybercrime unit or the national CERT.",
        ),
    ),
    "bec": Advice(
        title="Business e-mail compromise: fake invoices and changed bank details",
        how=(
            "Criminals take over or imitate the e-mail of a supplier or manager and ask for a "
            "payment to a new bank account.",
        ),
        signs=("A change of bank details by e-mail, or an urgent, confidential payment request.",),
        todo=(
            "Confirm every change of bank details by telephone, using a number you already had.",
            "If a payment went out, call your bank at once and report to the police.",
        ),
    ),
}
