"""Configuration: the options, the manifest and its path patterns, and the import strings
that name the apps, all checked before anything is served."""
