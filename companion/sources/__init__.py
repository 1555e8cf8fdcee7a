"""Sources: every kind of followed thing implements ``base.Source``."""
