"""The data-set generators, one module each: a `Recipe` and the `generate_*` function
that checks its settings and writes the file (see `sciml.datasets._pipeline`)."""
