"""The range of row ids every database can hold and be asked for (pure: rules and protocol parsers use it).

Ids are INTEGER columns: 64-bit on SQLite, 32-bit on PostgreSQL. An id outside 1 .. MAX_ID can be
neither stored nor looked up there (SQLite raises OverflowError past 2**63-1, PostgreSQL an
out-of-range error past 2**31-1), so whatever reads an id from input refuses one outside it.
"""

MAX_ID = 2**31 - 1  # the largest INTEGER on PostgreSQL, the narrower backend; ids are positive
