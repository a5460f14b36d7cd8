"""Date and number formats for the languages Django ships none for (Filipino)."""
