"""Phone numbers as one number: 0912…, 84912… and +84912… are the same customer.

The raw value a payload or a person gave is kept; beside it the hub stores its E.164 form (parsed by
Google's libphonenumber port, Vietnam as the default region) for searches and joins.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

DEFAULT_REGION = "VN"


def e164(raw: object, region: str = DEFAULT_REGION) -> str | None:
    """`raw` as +<country><number>, or None when it is no possible phone number (an extension, a name)."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or len(text) > 32:
        return None
    if text.startswith("84") and text.isdigit() and len(text) >= 10:
        text = "+" + text  # Zalo writes Vietnamese numbers 84xxxxxxxxx, without the plus
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def zalo_form(raw: object) -> str | None:
    """The number as Zalo writes it (84xxxxxxxxx), for the records kept that way (consents, ZNS)."""
    normal = e164(raw)
    return normal[1:] if normal else None
