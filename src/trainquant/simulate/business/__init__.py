"""The simulated business systems' year (``generate``), run and connected both ways (``load``), and the constructed panels with planted effects for checking the estimators (``panels``)."""
