"""pln — a professional learning network companion."""

__version__ = "0.1.0"
