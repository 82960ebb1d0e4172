"""The audit trail's records: what happened, who did it, and the hash chain linking them.

An ``AuditEntry`` is what a caller reports; the log turns it into an
``AuditRecord`` by giving it the next sequence number and chaining it to the
record before (``prev_hash``). The chain arithmetic and its verification live
here, free of I/O; stores only keep records in order.

Each record's ``hash`` is an HMAC-SHA256, under a key derived from the
installation secret (``chain_key``), of the previous record's hash and a
canonical JSON of the record's ``seq`` and fields (``chain_hash``). Without the
key nobody can forge a record that verifies, so ``verify_chain`` tells an
edited record (its hash no longer matches its content) from a deleted one (a
gap in ``seq``), a reordered one (a record that verifies only at another
position) and a truncated log (fewer records than an externally kept head).
Removing records from the end of the log is invisible without such a head.
Retention prunes the oldest records behind a signed ``AuditCheckpoint``, from
which verification then starts (a forged checkpoint is reported).
"""

from argus.domain.audit.chain import (
    CHAIN_KEY_INFO,
    GENESIS_HASH,
    chain_hash,
    chain_key,
    next_record,
    parse_head,
)
from argus.domain.audit.checkpoint import CHECKPOINT_CONTEXT, AuditCheckpoint, sign_checkpoint
from argus.domain.audit.records import (
    MAX_ACTION,
    MAX_ACTOR,
    MAX_IP,
    MAX_TARGET,
    AuditEntry,
    AuditOutcome,
    AuditRecord,
    check_entry,
)
from argus.domain.audit.verify import (
    ChainProblem,
    ChainReport,
    ChainVerifier,
    ProblemKind,
    verify_chain,
    verify_stream,
)

__all__ = [
    "CHAIN_KEY_INFO",
    "CHECKPOINT_CONTEXT",
    "GENESIS_HASH",
    "MAX_ACTION",
    "MAX_ACTOR",
    "MAX_IP",
    "MAX_TARGET",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditOutcome",
    "AuditRecord",
    "ChainProblem",
    "ChainReport",
    "ChainVerifier",
    "ProblemKind",
    "chain_hash",
    "chain_key",
    "check_entry",
    "next_record",
    "parse_head",
    "sign_checkpoint",
    "verify_chain",
    "verify_stream",
]
