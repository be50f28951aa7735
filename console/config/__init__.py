"""The YAML configuration format: parse with source positions, validate, emit canonically."""
