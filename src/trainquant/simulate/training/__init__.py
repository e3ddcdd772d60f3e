"""The simulated training year: its types (``spec``), the catalogue of programs (``catalogue``), the generator (``generate``) and its loader into the database (``load``)."""
