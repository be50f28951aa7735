"""oncall-console: a desktop console for on-call teams."""

__version__ = "0.1.0"
