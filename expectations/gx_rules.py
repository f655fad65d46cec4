"""Great Expectations classes named in the domain's words.

Most domain rules are computed as a boolean column by ``expectations.rules`` (True = the row
keeps the rule, or the rule does not apply to it); each class below checks one such column with
GX's cheap ``in_set`` metric, so Data Docs and results carry the rule's own name. Importing this
module imports Great Expectations (about 2 s): import it lazily.
"""

from __future__ import annotations

from great_expectations.expectations import (
    ExpectColumnMaxToBeBetween,
    ExpectColumnMeanToBeBetween,
    ExpectColumnMinToBeBetween,
    ExpectColumnValuesToBeInSet,
)


class _RowKeepsRule(ExpectColumnValuesToBeInSet):
    """Every value of a derived boolean column must be True."""

    value_set: list = [True]


# Pre-link: the row on its own.
class ExpectRowToBeReadable(_RowKeepsRule):
    """The reader could split the row into its fields."""


class ExpectFullNameToBeValid(_RowKeepsRule):
    """The name has letters only, as a Vietnamese name does."""


class ExpectFullNameWrittenInStandardForm(_RowKeepsRule):
    """The name as written is already NFC, title case, one tone placement, no legacy font."""


class ExpectFullNameToCarryDiacritics(_RowKeepsRule):
    """A Vietnamese name written without any diacritic lost them on the way."""


class ExpectDateToBeReadable(_RowKeepsRule):
    """A given date parses and exists in the calendar."""


class ExpectBirthDateToBeComplete(_RowKeepsRule):
    """Day and month of birth are known, not only the year."""


class ExpectBirthDateNotPlaceholder(_RowKeepsRule):
    """01/01/yyyy is the usual stand-in for an unknown birth date."""


class ExpectBirthDateToBePlausible(_RowKeepsRule):
    """Born in a century the ID scheme covers, and not after the run date."""


class ExpectSexToBeValid(_RowKeepsRule):
    """Sex is Nam, Nữ or Khác."""


class ExpectIdNotPlaceholder(_RowKeepsRule):
    """000000000000, 123456789012 and the like are not IDs."""


class ExpectIdStructureToBeValid(_RowKeepsRule):
    """12 digits with a valid birth-province prefix, or a 9-digit CMND."""


class ExpectIdCenturyDigitToMatchSexAndBirthYear(_RowKeepsRule):
    """The ID's 4th digit (century and sex) and digits 5-6 (birth year) agree with the row."""


class ExpectIdWrittenInStandardForm(_RowKeepsRule):
    """The ID was written as its digits, leading zero included."""


class ExpectPhoneToBeValid(_RowKeepsRule):
    """A given phone number is a Vietnamese number."""


class ExpectPhoneWrittenInStandardForm(_RowKeepsRule):
    """The phone was written as 10 digits 0xxxxxxxxx."""


class ExpectAddressUnitsToBeKnown(_RowKeepsRule):
    """Province, district and ward names resolve to statistics-office codes."""


class ExpectAddressWithoutAbbreviations(_RowKeepsRule):
    """Administrative units are written out (Phường, Quận), not abbreviated (P., Q., HN)."""


class ExpectAddressToCarryDiacritics(_RowKeepsRule):
    """A Vietnamese address written without any diacritic lost them on the way."""


class ExpectDateNotAfterRunDate(_RowKeepsRule):
    """Nothing can have happened after the extract was taken."""


class ExpectEventNotBeforeBirth(_RowKeepsRule):
    """A dose, case or insurance period cannot predate the person's birth."""


class ExpectVaccinationDateOnOrAfterCampaignStart(_RowKeepsRule):
    """No COVID-19 dose was given before the campaign started."""


class ExpectDoseNumberInApprovedRange(_RowKeepsRule):
    """Dose numbers run from 1 to the highest dose given."""


class ExpectVaccineInApprovedList(_RowKeepsRule):
    """The product is one of the approved COVID-19 vaccines."""


class ExpectTestTypeToBeKnown(_RowKeepsRule):
    """RT-PCR or rapid antigen test."""


class ExpectRecoveryOnOrAfterPositiveTest(_RowKeepsRule):
    """A case cannot recover before it tested positive."""


class ExpectBhxhNumberToBeValid(_RowKeepsRule):
    """The social-insurance number has 10 digits."""


class ExpectBhxhNumberWrittenInStandardForm(_RowKeepsRule):
    """The social-insurance number was written as its 10 digits."""


class ExpectPeriodEndOnOrAfterStart(_RowKeepsRule):
    """An insurance period cannot end before it starts."""


class ExpectDatesInOrder(_RowKeepsRule):
    """A row's later date is not before its earlier one (``<later>_on_or_after_<earlier>``)."""


class ExpectRowNotDuplicated(_RowKeepsRule):
    """The same person and event already appear under another record id."""


class ExpectRowToHaveNoCopy(_RowKeepsRule):
    """No other row has the same person and event under another record id."""


# Post-link: the row against the register and the other rows of the person.
class ExpectRecordLinkedToRegister(_RowKeepsRule):
    """The row was matched to one person of the register."""


class ExpectDeclaredIdToBelongToLinkedPerson(_RowKeepsRule):
    """The declared ID is the linked person's CCCD (or old CMND)."""


class ExpectNameToAgreeWithRegister(_RowKeepsRule):
    """The name is the linked person's name as the register spells it."""


class ExpectBirthDateToAgreeWithRegister(_RowKeepsRule):
    """The birth date is the linked person's (the year, when only the year is known)."""


class ExpectSexToAgreeWithRegister(_RowKeepsRule):
    """The sex is the linked person's."""


class ExpectNoEventAfterDeath(_RowKeepsRule):
    """Nothing happens to a person after the death the register records."""


class ExpectDoseIntervalAtLeastMinimum(_RowKeepsRule):
    """A dose respects the minimum interval after the person's previous dose."""


class ExpectDoseNumbersInDateOrder(_RowKeepsRule):
    """A person's dose numbers increase with the vaccination date."""


class ExpectIdClaimedByOnePerson(_RowKeepsRule):
    """One declared ID is used by one person only."""


# The register (dan_cu) on its own.
class ExpectPersonIdStructureToBeValid(_RowKeepsRule):
    """12 digits: a birth-province prefix, a century digit and birth year not after the run date."""


class ExpectPersonIdWrittenInStandardForm(_RowKeepsRule):
    """The số định danh was written as its 12 digits, leading zero included."""


class ExpectCmndToBeValid(_RowKeepsRule):
    """The old ID card number, when given, has 9 digits."""


class ExpectSexToBeNamOrNu(_RowKeepsRule):
    """The register records Nam or Nữ."""


class ExpectAdminCodesToBeValid(_RowKeepsRule):
    """Province, district and ward codes are statistics-office codes of their scheme."""


class ExpectAdminCodesToBeConsistent(_RowKeepsRule):
    """The ward lies in the district and the district in the province."""


class ExpectDeathNotBeforeBirth(_RowKeepsRule):
    """A person cannot die before being born."""


class ExpectFullNameToBeNfc(_RowKeepsRule):
    """The name is stored in Unicode NFC, as the register's standard requires."""


class ExpectMostPersonIdsToBeValid(ExpectColumnMeanToBeBetween):
    """The share of well-formed IDs (mean of the boolean rule column) is high: else mis-mapped."""


# Batch level.
class ExpectLatestEventWithinDaysOfRunDate(ExpectColumnMinToBeBetween):
    """The newest event of the extract is recent: the extract is fresh."""


class ExpectRegisterSnapshotWithinDaysOfRunDate(ExpectColumnMaxToBeBetween):
    """The register snapshot linked against is recent."""


RULE_CLASSES = {
    cls.__name__: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and cls.__name__.startswith("Expect") and cls.__module__ == __name__
}
