"""Reading the spreadsheets officers keep (phone logs, visitor books, letter agendas, LAPOR!
exports): headers found below title rows, values as people type them. Shared by the off-line
channels; a folder whose name starts with ``_`` is not a channel."""
