"""The default PII matchers: read-only data shipped with the app, not rows.

The published list has 38 rows, 8 Red and 30 Yellow, with ``email`` and
``gender`` listed twice (reference §3.1). Which default matches on the key and
which on the value is documented nowhere (reference §12.1), so: every listed
matcher matches on the key (its name and the usual spellings of it, listed as
synonyms), and the second ``email`` row is the value matcher for addresses,
joined by value matchers for IP addresses, phone numbers and card numbers, the
values the docs themselves cite ("the payload 123-456-7890"). Short names match
exactly; fuzzy (Dice > 0.7) matching of a four-letter name would flag unrelated
keys. A custom matcher with the same name overrides a default.
"""

from __future__ import annotations

from privacy.matching import Classification, Matcher, MatchOn, Precision

RED, YELLOW = Classification.RED, Classification.YELLOW
EXACT, SIMILAR = Precision.EXACT, Precision.SIMILAR

# (id, name, classification, precision, synonyms): the key matchers, in the docs' order.
_KEYS: tuple[tuple[str, str, Classification, Precision, tuple[str, ...]], ...] = (
    (
        "social-security-number",
        "social security number",
        RED,
        SIMILAR,
        ("ssn", "social security no", "social security"),
    ),
    ("password", "password", RED, SIMILAR, ("passwd", "pwd", "pass phrase", "passphrase")),
    ("visa", "visa", RED, EXACT, ("visa number", "visa status", "visa type")),
    ("veteran", "veteran", RED, SIMILAR, ("veteran status", "military status")),
    ("disability", "disability", RED, SIMILAR, ("disabilities", "disability status")),
    (
        "credit-card",
        "credit card",
        RED,
        SIMILAR,
        ("credit card number", "ccn", "card number", "cc number", "pan"),
    ),
    ("passport", "passport", RED, SIMILAR, ("passport number", "passport no")),
    (
        "token",
        "token",
        RED,
        SIMILAR,
        ("access token", "auth token", "api token", "refresh token", "secret"),
    ),
    ("race", "race", YELLOW, EXACT, ()),
    ("birthdate", "birthdate", YELLOW, SIMILAR, ("birthday", "date of birth", "dob", "birth date")),
    (
        "phone",
        "phone",
        YELLOW,
        SIMILAR,
        ("phone number", "telephone", "mobile", "mobile number", "cell phone", "mobile phone"),
    ),
    (
        "address",
        "address",
        YELLOW,
        SIMILAR,
        (
            "street address",
            "home address",
            "mailing address",
            "postal address",
            "address line 1",
            "address line 2",
        ),
    ),
    ("gender", "gender", YELLOW, SIMILAR, ("gender identity",)),
    ("ethnicity", "ethnicity", YELLOW, SIMILAR, ("ethnic origin", "ethnic group")),
    ("citizenship", "citizenship", YELLOW, SIMILAR, ("nationality",)),
    (
        "name",
        "name",
        YELLOW,
        EXACT,
        (
            "first name",
            "last name",
            "full name",
            "firstname",
            "lastname",
            "given name",
            "family name",
            "surname",
            "middle name",
        ),
    ),
    ("street", "street", YELLOW, SIMILAR, ("street name", "street 1", "street 2")),
    ("city", "city", YELLOW, EXACT, ("town",)),
    ("zipcode", "zipcode", YELLOW, SIMILAR, ("zip", "zip code", "postal code", "postcode")),
    ("email", "email", YELLOW, SIMILAR, ("email address", "e-mail", "mail")),
    ("certificate", "certificate", YELLOW, SIMILAR, ("certificate number",)),
    (
        "license",
        "license",
        YELLOW,
        SIMILAR,
        ("licence", "license number", "drivers license", "driver license"),
    ),
    (
        "identification",
        "identification",
        YELLOW,
        SIMILAR,
        ("id number", "national id", "identity number"),
    ),
    ("serial", "serial", YELLOW, SIMILAR, ("serial number", "serial no")),
    ("ip", "ip", YELLOW, EXACT, ("ip address", "ipv4", "ipv6", "ip addr")),
    ("photo", "photo", YELLOW, SIMILAR, ("photograph", "picture", "avatar", "profile photo")),
    ("salary", "salary", YELLOW, SIMILAR, ("income", "wage", "wages")),
    ("religion", "religion", YELLOW, SIMILAR, ("religious affiliation",)),
    ("mac", "mac", YELLOW, EXACT, ("mac address", "macaddr")),
    ("sex", "sex", YELLOW, EXACT, ()),
    ("sexual-orientation", "sexual orientation", YELLOW, SIMILAR, ("orientation",)),
    ("medication", "medication", YELLOW, SIMILAR, ("medications", "medicine", "prescription")),
    ("allergy", "allergy", YELLOW, SIMILAR, ("allergies",)),
    ("condition", "condition", YELLOW, SIMILAR, ("medical condition", "health condition")),
    ("diagnosis", "diagnosis", YELLOW, SIMILAR, ("diagnoses",)),
    ("procedure", "procedure", YELLOW, SIMILAR, ("medical procedure",)),
)

# Value patterns, searched in string values (RE2). Anchored, so a longer value that
# merely contains one (a sentence, a URL) is not flagged on the value alone.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_HEX = r"[0-9A-Fa-f]{1,4}"
_VALUES: tuple[tuple[str, str, Classification, str], ...] = (
    ("email-value", "email address value", YELLOW, r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    (
        "ip-value",
        "ip address value",
        YELLOW,
        rf"^(?:{_OCTET}\.){{3}}{_OCTET}$|^(?:{_HEX}:){{7}}{_HEX}$|^(?:{_HEX}:)+:(?:{_HEX}:)*{_HEX}$",
    ),
    # Separated groups only: a bare ten-digit string is as likely a product id (the docs).
    (
        "phone-value",
        "phone number value",
        YELLOW,
        r"^(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}$",
    ),
    (
        "credit-card-value",
        "credit card number value",
        RED,
        r"^(?:4\d{3}|5[1-5]\d{2}|6011|2[2-7]\d{2})(?:[ -]?\d{4}){3}$"
        r"|^3[47]\d{2}[ -]?\d{6}[ -]?\d{5}$",
    ),
)

DEFAULT_MATCHERS: tuple[Matcher, ...] = (
    *(
        Matcher(
            id=ident,
            name=name,
            classification=classification,
            match_on=MatchOn.KEY,
            precision=precision,
            synonyms=synonyms,
            default=True,
        )
        for ident, name, classification, precision, synonyms in _KEYS
    ),
    *(
        Matcher(
            id=ident,
            name=name,
            classification=classification,
            match_on=MatchOn.VALUE,
            pattern=pattern,
            default=True,
        )
        for ident, name, classification, pattern in _VALUES
    ),
)
BY_ID = {m.id: m for m in DEFAULT_MATCHERS}
