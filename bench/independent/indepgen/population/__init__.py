"""The population: households with consistent ages and names, IDs that encode birth province,
century/sex and year, CMND for adults, phones shared in households, addresses, deaths,
movers and visitors (people who appear in extracts but not in this register)."""

from .build import build
from .model import Population

__all__ = ["Population", "build"]
