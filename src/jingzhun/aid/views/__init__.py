"""Student aid pages, one module per workflow: overview and rule book, review (entitlements
and class/school review), notices, batches (payment, bank files, allocations, loans) and
coverage (with adjustments); shared helpers in common."""
