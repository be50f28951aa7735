"""Reusable widgets: page header, sidebar, forms with field errors, empty states."""
