"""Record linkage of extracts to the population register (Fellegi-Sunter, settings as data)."""

from matching.config import LinkageSettings, load_settings
from matching.engine import LinkResult, RegisterError, link

__all__ = ["LinkResult", "LinkageSettings", "RegisterError", "link", "load_settings"]
