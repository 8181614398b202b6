"""Wrap SpiffWorkflow: the only package that imports it."""
