"""The tamper-evident audit log (a keyed hash chain in the registry database)."""

from voxclone.audit.chain import AuditEntry, AuditProblem, AuditReport
from voxclone.audit.log import AuditLog, local_actor

__all__ = ["AuditEntry", "AuditLog", "AuditProblem", "AuditReport", "local_actor"]
