"""TrainQuant: training quantification for language-training schools."""

__version__ = "0.1.0"
