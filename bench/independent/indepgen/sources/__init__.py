"""Rows of the register and of the three extracts, one chunk of households at a time."""
