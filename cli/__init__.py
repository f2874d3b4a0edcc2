"""The command line's command groups and how it shows records; ``workers.py`` is the table of contents."""
