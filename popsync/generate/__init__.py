"""``popsync generate``: a deterministic synthetic register, the three extracts with injected
noise and violations, and the truth files that say what was injected."""

from popsync.generate.dataset import generate_dataset

__all__ = ["generate_dataset"]
