"""Record linkage of extracts to the population register (Fellegi-Sunter, settings as data)."""

from matching.config import LinkageSettings, load_settings
from matching.engine import LinkResult, RegisterError, link, train
from matching.model import Model
from matching.prepared_register import PreparedRegister
from matching.snapshot import prepare_snapshot

__all__ = [
    "LinkResult",
    "LinkageSettings",
    "Model",
    "PreparedRegister",
    "RegisterError",
    "link",
    "load_settings",
    "prepare_snapshot",
    "train",
]
