"""Duty pages, one module per workflow: casework (cases), the responsibility chain (chain),
the reports (reports) and the teacher's phone page (mobile); shared helpers in common."""
