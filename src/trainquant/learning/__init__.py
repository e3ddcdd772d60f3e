"""Online learning: xAPI statements, video watch coverage, course completion."""
