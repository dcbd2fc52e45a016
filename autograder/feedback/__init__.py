"""Feedback: the catalogue of common mistakes, their detectors, plots and the HTML report.

Trusted code (the mutants are patched reference solutions): it never enters a worker.
"""
