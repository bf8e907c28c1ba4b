"""Personal data in training text: e-mail addresses, phone numbers and IBANs.

Findings are warnings (a company may legitimately train on a support address), so the
patterns lean towards finding too much rather than too little; IBANs are checked with
their ISO 7064 checksum so that order numbers are not mistaken for them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from core.training.text import AsciiLiterals, texts_matching

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# International (+49 30 1234567) or grouped national numbers (030 123 4567, (030) 1234-567);
# not the tail of a code such as the order number SO-24-118734.
_PHONE = re.compile(
    r"(?<![\w+-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,8}){1,4}(?!\w)"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b")


@dataclass(frozen=True)
class PersonalData:
    kind: str  # "e-mail address", "phone number", "IBAN"
    text: str


def _iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _looks_like_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    # Dates, times and plain amounts are not phone numbers.
    return not re.fullmatch(r"\d{1,4}[.-]\d{1,2}[.-]\d{1,4}", candidate.strip())


# Cheap necessary conditions: most texts hold no candidate at all, and these simple scans
# are many times faster than the full patterns (100,000 examples are checked at once).
_IBAN_HINT = re.compile(r"[A-Z]{2}\d{2}")
_PHONE_HINT = re.compile(r"\d\d[\s.-]\d\d")


_ANY_HINT = re.compile(r"@|[A-Z]{2}\d{2}|\d\d[\s.-]\d\d")
# On ASCII text the hints are three literals once every digit, capital and separator is
# mapped to one stand-in.
_ANY_HINT_ASCII = AsciiLiterals(
    str.maketrans(
        {
            **dict.fromkeys(string.digits, "0"),
            **dict.fromkeys(string.ascii_uppercase, "A"),
            **dict.fromkeys("\t\n\v\f\r\x1c\x1d\x1e\x1f .-", "-"),
        }
    ),
    ("@", "AA00", "00-00"),
)


def texts_with_candidates(texts: Sequence[str]) -> list[int]:
    """Indexes of the texts that may hold personal data (where ``_ANY_HINT`` matches), from
    one scan over all of them, so that only those few get the full check."""
    return texts_matching(texts, _ANY_HINT, _ANY_HINT_ASCII)


def find_personal_data(text: str) -> list[PersonalData]:
    found: list[PersonalData] = []
    without_emails = text
    if "@" in text:
        found += [PersonalData("e-mail address", m.group()) for m in _EMAIL.finditer(text)]
        without_emails = _EMAIL.sub(" ", text)
    ibans = (
        [m.group() for m in _IBAN.finditer(without_emails) if _iban_valid(m.group())]
        if _IBAN_HINT.search(without_emails)
        else []
    )
    found += [PersonalData("IBAN", iban) for iban in ibans]
    without_ibans = without_emails
    for iban in ibans:
        without_ibans = without_ibans.replace(iban, " ")
    if _PHONE_HINT.search(without_ibans):
        found += [
            PersonalData("phone number", m.group().strip())
            for m in _PHONE.finditer(without_ibans)
            if _looks_like_phone(m.group())
        ]
    return found


def describe(findings: list[PersonalData]) -> str:
    """e.g. "1 e-mail address, 2 phone numbers" for a warning."""
    if not findings:
        return ""
    counts: dict[str, int] = {}
    for item in findings:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return ", ".join(f"{n} {_plural(kind, n)}" for kind, n in counts.items())


def _plural(kind: str, n: int) -> str:
    if n == 1:
        return kind
    return kind + ("es" if kind.endswith("s") else "s")
