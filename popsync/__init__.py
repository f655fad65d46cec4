"""popsync: link health and insurance extracts to the population register, enforce
"Đúng, đủ, sạch, sống" with Great Expectations, and load the result into PostgreSQL."""

__version__ = "0.1.0"
