"""Record linkage of extracts to the population register (Fellegi-Sunter, settings as data)."""

from matching.config import LinkageSettings, load_settings
from matching.engine import LinkResult, link
from matching.model import Model
from matching.prepared_register import PreparedRegister, RegisterError
from matching.snapshot import load_model, prepare_snapshot, save_model, train_model

__all__ = [
    "LinkResult",
    "LinkageSettings",
    "Model",
    "PreparedRegister",
    "RegisterError",
    "link",
    "load_model",
    "load_settings",
    "prepare_snapshot",
    "save_model",
    "train_model",
]
