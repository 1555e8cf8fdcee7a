"""Reflections: compose, split into threads, publish, journal exports."""
