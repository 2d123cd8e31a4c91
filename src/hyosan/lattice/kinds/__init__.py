"""Town event kinds beyond the built-in five, one module each: every module in this package is
imported when :mod:`hyosan.lattice.events` is, so a new kind is one file here (its record, its
handler, its chronicle sentence: see ``shelter.py``) plus its test."""
