"""Custom profile fields: their types, the documented formats, and the format rules.

Rules of this file:
1. `FieldType` values are the documented spellings, exactly (`Date` has a capital D).
2. `check_field_format()` is pure: it decides, before anything is sent, whether a type and a
   format go together, and names the allowed values when they do not.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["CURRENCY_CODES", "DATE_FORMATS", "FieldType", "ProfileField", "check_field_format"]


class FieldType(str, enum.Enum):
    """The type of a custom profile field (CONTRACT §6, exact spelling)."""

    STRING = "string"
    NUMBER = "number"
    CHAR = "char"
    DATE = "Date"
    CURRENCY = "currency"

    def __str__(self) -> str:
        return self.value


DATE_FORMATS: tuple[str, ...] = (
    "yyyy-MM-dd",
    "dd/MM/yyyy",
    "MM/dd/yyyy",
    "dd-MM-yyyy",
    "MM-dd-yyyy",
    "dd.MM.yyyy",
    "yyyy/MM/dd",
    "dd MMM yyyy",
    "MMM dd, yyyy",
    "MMMM dd, yyyy",
    "dd MMMM yyyy",
    "yy/MM/dd",
    "dd/MM/yy",
    "MM/dd/yy",
)
"""The documented `field_format` values of a `Date` field."""

# ISO 4217 active codes (2025), without XTS (testing) and XXX (no currency).
CURRENCY_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS
    VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER
    ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 - a block of codes reads better than 170 quoted strings
)
"""The ISO-4217 codes a `currency` field accepts as its `field_format`."""


def field_type_of(value: FieldType | str) -> FieldType:
    """`value` as a `FieldType`; a `ValueError` naming the allowed spellings otherwise."""
    if isinstance(value, FieldType):
        return value
    if not isinstance(value, str):
        raise TypeError(f"field_type must be a FieldType or a str, got {type(value).__name__}")
    try:
        return FieldType(value)
    except ValueError:
        allowed = ", ".join(repr(t.value) for t in FieldType)
        hint = next(
            (f"; did you mean {t.value!r}?" for t in FieldType if t.value.lower() == value.lower()),
            "",
        )
        raise ValueError(f"field_type must be one of {allowed}, got {value!r}{hint}") from None


def check_field_format(field_type: FieldType | str, field_format: str | None) -> FieldType:
    """Check that `field_format` suits `field_type`; returns the type as a `FieldType`.

    `Date` needs one of `DATE_FORMATS`, `currency` an ISO-4217 code, and the other types take
    no format at all.
    """
    kind = field_type_of(field_type)
    if field_format is not None and not isinstance(field_format, str):
        raise TypeError(f"field_format must be a str, got {type(field_format).__name__}")
    if kind is FieldType.DATE and field_format not in DATE_FORMATS:
        allowed = ", ".join(repr(f) for f in DATE_FORMATS)
        raise ValueError(f"a Date field needs field_format, one of {allowed}; got {field_format!r}")
    if kind is FieldType.CURRENCY and field_format not in CURRENCY_CODES:
        hint = ""
        if field_format and field_format.upper() in CURRENCY_CODES:
            hint = f"; did you mean {field_format.upper()!r}?"
        raise ValueError(
            "a currency field needs field_format, a three-letter uppercase ISO-4217 code such "
            f"as 'AED', 'AUD', 'EUR' or 'USD'; got {field_format!r}{hint}"
        )
    if kind not in (FieldType.DATE, FieldType.CURRENCY) and field_format is not None:
        raise ValueError(
            f"a {kind.value} field takes no field_format (only 'Date' and 'currency' do); "
            f"got {field_format!r}"
        )
    return kind


@attrs.frozen
class ProfileField:
    """A custom profile field of a workspace. Unknown `field_type` values stay strings."""

    field_id: str
    field_name: str | None = None
    field_type: FieldType | str | None = None
    field_format: str | None = None
    required: bool = False
    options: tuple[str, ...] | None = None
    workspace_id: str | None = None
