"""popsync: link health and insurance extracts to the population register, enforce
"Đúng, đủ, sạch, sống" with Great Expectations, and load the result into PostgreSQL."""

__version__ = "0.1.0"

SOURCES = ("dan_cu", "tiem_chung", "f0", "bhxh")
EXTRACT_SOURCES = ("tiem_chung", "f0", "bhxh")

# The warehouse table each extract lands in (issue 5's schema): the one mapping, used by the
# warehouse and by the DAG (which must not import the warehouse to parse).
TABLE_OF_SOURCE = {
    "tiem_chung": "vaccination_dose",
    "f0": "f0_case",
    "bhxh": "social_insurance_period",
}
