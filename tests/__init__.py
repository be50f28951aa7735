"""oncall-console's test-suite."""
