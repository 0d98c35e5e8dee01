"""The declared org: models, loading org.yaml with file:line errors, edits that keep comments."""
