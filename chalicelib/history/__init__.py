"""Importing a shop's history: readers of exported files, and the import itself."""
