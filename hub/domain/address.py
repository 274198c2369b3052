"""Postal address and customer contact, with pure (deterministic, I/O-free) validation.

Validation is pure so that the order workflow's Update validator can run it.
"""

from __future__ import annotations

import re
from typing import Annotated

import phonenumbers
import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _iso_3166_alpha2(code: str) -> str:
    code = code.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[str, AfterValidator(_iso_3166_alpha2)]

# Postal-code shapes for the countries the sandbox and first adapters ship to.
# Source: Google libaddressinput metadata (chromium-i18n.appspot.com/ssl-address), "zip" keys.
# Countries not listed are accepted as long as a postal code is present where one is required.
POSTAL_CODE_PATTERNS: dict[str, str] = {
    "US": r"\d{5}(?:[ -]\d{4})?",
    "CA": r"[ABCEGHJKLMNPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d",
    "GB": r"GIR ?0AA|(?:[A-PR-UWYZ][A-HK-Y]?\d[\dA-HJKPS-UW]?) ?\d[ABD-HJLNP-UW-Z]{2}",
    "DE": r"\d{5}",
    "FR": r"\d{2} ?\d{3}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "SE": r"\d{3} ?\d{2}",
    "DK": r"\d{4}",
    "NO": r"\d{4}",
    "FI": r"\d{5}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "AT": r"\d{4}",
    "BE": r"\d{4}",
    "PL": r"\d{2}-\d{3}",
    "AU": r"\d{4}",
    "JP": r"\d{3}-?\d{4}",
}
# Countries without postal codes (libaddressinput: no "zip" key).
NO_POSTAL_CODE = frozenset({"AE", "HK", "IE", "QA", "AG", "BS", "BZ", "FJ", "GH", "JM"})


class Address(BaseModel):
    """A shipping or billing address. Field names follow the common carrier vocabulary."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    name: str
    company: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = Field(default=None, description="State, province or county code")
    postal_code: str | None = None
    country: CountryCode


class Contact(BaseModel):
    """How to reach the customer. Personal data: never in logs or search attributes."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    name: str
    email: str | None = None
    phone: str | None = None


def address_problems(address: Address) -> list[str]:
    """Human-readable reasons a parcel could not be delivered to this address (empty: fine)."""
    problems: list[str] = []
    if not address.name:
        problems.append("recipient name is empty")
    if len(address.line1) < 3:
        problems.append("street line is missing or too short")
    if not address.city:
        problems.append("city is empty")
    problems.extend(_postal_code_problems(address))
    if address.country in {"US", "CA", "AU"} and not address.region:
        problems.append(f"a state/province is required for {address.country}")
    return problems


def _postal_code_problems(address: Address) -> list[str]:
    code = (address.postal_code or "").strip().upper()
    if address.country in NO_POSTAL_CODE:
        return []
    if not code:
        return [f"postal code is missing (required for {address.country})"]
    pattern = POSTAL_CODE_PATTERNS.get(address.country)
    if pattern and not re.fullmatch(pattern, code):
        return [f"postal code does not have the shape of a {address.country} postal code"]
    return []


def contact_problems(contact: Contact, country: str) -> list[str]:
    """Problems with the contact details a carrier needs (a reachable phone if one is given)."""
    if not contact.phone:
        return []
    try:
        number = phonenumbers.parse(contact.phone, country)
    except phonenumbers.NumberParseException:
        return ["phone number cannot be parsed"]
    if not phonenumbers.is_possible_number(number):
        return ["phone number has the wrong length for its country"]
    return []
