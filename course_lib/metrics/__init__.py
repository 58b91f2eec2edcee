"""Metrics: pure functions on NumPy arrays, one module per kind of question.

Import the module you need, e.g. `from course_lib.metrics import reconstruction`.
"""
