"""Pages of school conditions and projects (II.2, coverage I.2), mounted at /projects/."""
