"""The tamper-evident audit log (a keyed hash chain in the registry database)."""

from voxclone.audit.chain import AuditEntry, AuditProblem, AuditReport
from voxclone.audit.log import AuditLog, local_actor
from voxclone.audit.retention import PruneResult, prune_fingerprints

__all__ = ["AuditEntry", "AuditLog", "AuditProblem", "AuditReport", "PruneResult",
           "local_actor", "prune_fingerprints"]
