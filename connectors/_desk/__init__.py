"""What the front-desk channels (``walkin``, ``letter``) share, written once.

Not a channel (the registry skips folders starting with ``_``). ``connector`` is their common
base (a record typed at the desk or read from the desk's book as a sheet, stored as JSON),
``registration`` the ``add`` command's side (store, wait for the case, print and keep the
receipt; its options), ``receipt_pdf`` the printed receipt.
"""
