"""The pure core: formats, validation and rules. No I/O, no clock, no database."""
