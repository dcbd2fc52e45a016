"""Stability Lab's autograder: stub generation, isolated grading, feedback and packaging.

Run ``python -m autograder --help`` for the commands.
"""
