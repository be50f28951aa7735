"""Qt item models over the estate and over the parts of the record being edited."""
