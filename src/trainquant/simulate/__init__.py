"""The demo institution: a seeded, deterministic case school with its ground truth (``generate``),
its loader (``load.load_school``) and its xlsx files (``export.write_files``)."""

from trainquant.simulate.institution.school import SimulatedSchool, generate

__all__ = ["SimulatedSchool", "generate"]
