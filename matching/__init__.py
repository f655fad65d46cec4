"""Record linkage of extracts to the population register (Fellegi-Sunter, settings as data)."""

from matching.config import LinkageSettings, load_settings
from matching.engine import LinkResult, RegisterError, link, train
from matching.model import Model

__all__ = [
    "LinkResult",
    "LinkageSettings",
    "Model",
    "RegisterError",
    "link",
    "load_settings",
    "train",
]
