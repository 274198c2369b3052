"""The hub's domain model: pure pydantic types, no I/O. Safe to import from workflow code."""

import pycountry

# pycountry reads its ISO databases from disk on first use. Do it now, at import time (always
# outside the workflow sandbox), so validating a Money or Address inside a workflow or a
# replay never needs file access.
pycountry.countries.get(alpha_2="DE")
pycountry.currencies.get(alpha_3="EUR")
