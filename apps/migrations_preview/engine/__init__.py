"""Migration previews. Unlike the other engines this one uses Django's migration framework as a
library (model states, the autodetector, the writer): Django's own migrations are what a team
running the generated code will get, so they are the thing to preview."""
