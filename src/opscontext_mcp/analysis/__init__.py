"""Pure functions over a snapshot: no I/O, `now` always passed in."""
