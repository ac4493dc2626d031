"""Registry subcommands of the ``voxclone`` command line: the audit log, owners and API
keys, and the HTTP server.

::

    voxclone audit show [--event E] [--voice V] [--after N] [--limit N] [--json]
    voxclone audit verify
    voxclone audit prune --older-than DAYS [--dry-run]
    voxclone owner add NAME [--admin]      (prints the owner's first API key)
    voxclone owner list
    voxclone key issue OWNER [--label L] [--rate-per-minute N] [--quota-seconds S]
    voxclone key list OWNER / voxclone key revoke OWNER PREFIX
    voxclone serve [--host H] [--port P] [--max-effort E] [--max-references N]
                   [--max-upload-mb MB] [--max-request-mb MB] [--max-enrollments N]
                   [--max-enrollments-per-owner N] [--max-text-chars N]
                   [--synthesis-slots N] [--max-streams N] [--max-stream-chars N]
                   [--stream-idle-seconds S]

Each takes ``--database-url URL`` (default ``$VOXCLONE_DATABASE_URL``, else SQLite in
the voxclone home).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from voxclone.audit import AuditLog, prune_fingerprints
from voxclone.clone.fit import EFFORTS
from voxclone.errors import VoxcloneError
from voxclone.registry import open_database
from voxclone.registry.access import (
    DEFAULT_QUOTA_SECONDS_PER_DAY,
    DEFAULT_RATE_PER_MINUTE,
    Access,
)

EXIT_OK, EXIT_TAMPERED = 0, 3


def add_registry_commands(sub: Any, flags: argparse.ArgumentParser) -> None:
    """Add ``audit``, ``owner``, ``key`` and ``serve`` to the subcommand parser ``sub``."""
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--database-url", metavar="URL",
                    help="registry database (default: $VOXCLONE_DATABASE_URL, else SQLite "
                         "in the voxclone home)")

    audit = sub.add_parser("audit", help="show or verify the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = audit_sub.add_parser("show", parents=[flags, db], help="print audit entries")
    p.add_argument("--event", help="only this event (enroll, synthesis, detect, ...)")
    p.add_argument("--voice", help="only this voice")
    p.add_argument("--after", type=int, default=0, metavar="N", help="entries after number N")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N entries")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(handler=cmd_audit_show)
    p = audit_sub.add_parser("verify", parents=[flags, db],
                             help="check that no entry was edited, deleted or reordered")
    p.set_defaults(handler=cmd_audit_verify)
    p = audit_sub.add_parser(
        "prune", parents=[flags, db],
        help="remove the fingerprints of old syntheses (their entries stay)",
        description="Remove the stored fingerprints of the syntheses logged more than DAYS "
                    "days ago, and log that it was done, so that `voxclone audit verify` "
                    "does not take it for tampering. Their audit entries stay, and a clip "
                    "of them whose watermark can be read is still found; one that lost its "
                    "watermark no longer is.")
    p.add_argument("--older-than", type=_days, required=True, metavar="DAYS",
                   help="syntheses logged more than this many days ago (0: all so far)")
    p.add_argument("--dry-run", action="store_true", help="only say how many would go")
    p.set_defaults(handler=cmd_audit_prune)

    owner = sub.add_parser("owner", help="manage the server's owners")
    owner_sub = owner.add_subparsers(dest="owner_command", required=True, metavar="ACTION")
    p = owner_sub.add_parser("add", parents=[flags, db],
                             help="create an owner and print its first API key")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--admin", action="store_true", help="may create owners, see all audit")
    p.set_defaults(handler=cmd_owner_add)
    p = owner_sub.add_parser("list", parents=[flags, db], help="list owners")
    p.set_defaults(handler=cmd_owner_list)

    key = sub.add_parser("key", help="manage API keys")
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    p = key_sub.add_parser("issue", parents=[flags, db], help="issue a key and print it")
    p.add_argument("owner", metavar="OWNER")
    p.add_argument("--label", default="")
    p.add_argument("--rate-per-minute", type=int, default=DEFAULT_RATE_PER_MINUTE)
    p.add_argument("--quota-seconds", type=float, default=DEFAULT_QUOTA_SECONDS_PER_DAY,
                   help="seconds of audio a day (UTC)")
    p.set_defaults(handler=cmd_key_issue)
    p = key_sub.add_parser("list", parents=[flags, db], help="list an owner's keys")
    p.add_argument("owner", metavar="OWNER")
    p.set_defaults(handler=cmd_key_list)
    p = key_sub.add_parser("revoke", parents=[flags, db], help="revoke a key")
    p.add_argument("owner", metavar="OWNER")
    p.add_argument("prefix", metavar="PREFIX")
    p.set_defaults(handler=cmd_key_revoke)

    p = sub.add_parser("serve", parents=[flags, db],
                       help="run the HTTP API and web page (needs voxclone[server])")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000)
    limits = p.add_argument_group("limits (per request, and on the enrollment queue)")
    limits.add_argument("--max-effort", choices=EFFORTS, default="balanced",
                        help="highest effort an enrollment may ask for (default: balanced; "
                             "best takes about 4 min of the one enrollment worker)")
    limits.add_argument("--max-references", type=_positive, default=10, metavar="N",
                        help="reference recordings per enrollment or check (default: 10)")
    limits.add_argument("--max-upload-mb", type=_positive, default=50, metavar="MB",
                        help="largest audio file accepted (default: 50)")
    limits.add_argument("--max-request-mb", type=_positive, default=100, metavar="MB",
                        help="audio files of one request together (default: 100)")
    limits.add_argument("--max-enrollments", type=_positive, default=8, metavar="N",
                        help="enrollments queued or running, in all (default: 8)")
    limits.add_argument("--max-enrollments-per-owner", type=_positive, default=2, metavar="N",
                        help="the same for each owner (default: 2)")
    limits.add_argument("--max-text-chars", type=_positive, default=20_000, metavar="N",
                        help="longest text one speech request may send (default: 20000)")
    limits.add_argument("--synthesis-slots", type=_positive, default=1, metavar="N",
                        help="syntheses run at once, more wait their turn (default: 1; "
                             "each uses every core)")
    limits.add_argument("--max-streams", type=_positive, default=16, metavar="N",
                        help="text-streaming connections open at once "
                             "(WebSocket /v1/audio/speech/stream-input; default: 16)")
    limits.add_argument("--max-stream-chars", type=_positive, default=100_000, metavar="N",
                        help="text one such connection may send in all (default: 100000, "
                             "about 2 h 20 min of speech)")
    limits.add_argument("--stream-idle-seconds", type=_seconds, default=60.0, metavar="S",
                        help="how long such a connection may wait for its next text "
                             "before it is closed (default: 60)")
    p.set_defaults(handler=cmd_serve)


def _positive(text: str) -> int:
    """A limit's value: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _seconds(text: str) -> float:
    """A time limit's value: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _access(args: argparse.Namespace) -> Access:
    return Access(open_database(args.database_url))


def cmd_audit_show(args: argparse.Namespace) -> int:
    log = AuditLog(open_database(args.database_url))
    if args.event is not None and args.event not in (known := log.events()):
        raise VoxcloneError(f"no {args.event!r} entries in the audit log; its entries are "
                            f"{', '.join(known) or 'none yet'}")
    for entry in log.entries(event=args.event, voice=args.voice, after=args.after,
                             limit=args.limit):
        if args.json:
            print(json.dumps(entry.to_json(), sort_keys=True))
        else:
            what = f" voice={entry.voice}" if entry.voice else ""
            payload = f" payload={entry.payload:08x}" if entry.payload is not None else ""
            details = json.dumps(dict(entry.details), sort_keys=True)
            print(f"{entry.seq:6d} {entry.at} {entry.event:<11} {entry.actor}{what}{payload} "
                  f"{details}")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    report = AuditLog(open_database(args.database_url)).verify()
    if report.ok:
        witness = (f"anchored here up to entry {report.anchored_seq}"
                   if report.anchored_seq is not None
                   else "not anchored: this voxclone home's anchor has no record of this "
                        "database (it was written by another installation, the anchor is "
                        "for another path or database, or the anchor file was deleted)")
        print(f"audit log intact: {report.entries} entries, chain and head check out; "
              f"{witness}")
        return EXIT_OK
    print(f"audit log TAMPERED: {len(report.problems)} problem(s) in {report.entries} entries",
          file=sys.stderr)
    for problem in report.problems:
        where = f"entry {problem.seq}: " if problem.seq > 0 else ""
        print(f"  {where}{problem.kind}: {problem.message}", file=sys.stderr)
    return EXIT_TAMPERED


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = float("nan")
    if not 0 <= days <= 36_525:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days from 0 to "
                                         "36525 (100 years)")
    return days


def cmd_audit_prune(args: argparse.Namespace) -> int:
    before = datetime.now(timezone.utc) - timedelta(days=args.older_than)
    result = prune_fingerprints(before, log=AuditLog(open_database(args.database_url)),
                                dry_run=args.dry_run)
    when = result.before.strftime("%Y-%m-%d %H:%M UTC")
    if args.dry_run:
        print(f"would remove the fingerprints of {result.removed} syntheses logged before "
              f"{when}")
    elif result.entry_seq is None:
        print(f"no fingerprints of syntheses logged before {when}; nothing removed")
    else:
        print(f"removed the fingerprints of {result.removed} syntheses logged before {when} "
              f"(audit entry {result.entry_seq}); their audit entries stay, and clips of "
              "them are still found by their watermark, no longer without it")
    return EXIT_OK


def cmd_owner_add(args: argparse.Namespace) -> int:
    access = _access(args)
    owner = access.add_owner(args.name, is_admin=args.admin)
    secret, key = access.issue_key(owner.id, label="first key")
    AuditLog(access.engine).append("owner-add", owner_id=owner.id,
                                   details={"name": owner.name, "is_admin": owner.is_admin,
                                            "prefix": key.prefix})
    print(secret)
    print(f"owner {owner.name} created; the line above is its API key, shown only now",
          file=sys.stderr)
    return EXIT_OK


def cmd_owner_list(args: argparse.Namespace) -> int:
    for owner in _access(args).owners():
        print(f"{owner.name}{' (admin)' if owner.is_admin else ''}  since {owner.created_at}")
    return EXIT_OK


def _owner_id(access: Access, name: str) -> int:
    try:
        return access.owner(name).id
    except LookupError as exc:
        raise ValueError(str(exc)) from None


def cmd_key_issue(args: argparse.Namespace) -> int:
    access = _access(args)
    owner_id = _owner_id(access, args.owner)
    secret, key = access.issue_key(owner_id, label=args.label,
                                   rate_per_minute=args.rate_per_minute,
                                   quota_seconds_per_day=args.quota_seconds)
    AuditLog(access.engine).append("key-issue", owner_id=owner_id,
                                   details={"prefix": key.prefix})
    print(secret)
    return EXIT_OK


def cmd_key_list(args: argparse.Namespace) -> int:
    access = _access(args)
    for key in access.keys(_owner_id(access, args.owner)):
        state = f"revoked {key.revoked_at}" if key.revoked_at else "live"
        print(f"{key.prefix}  {state}  {key.rate_per_minute}/min  "
              f"{key.quota_seconds_per_day:.0f} s/day  {key.label}")
    return EXIT_OK


def cmd_key_revoke(args: argparse.Namespace) -> int:
    access = _access(args)
    owner_id = _owner_id(access, args.owner)
    access.revoke_key(owner_id, args.prefix)
    AuditLog(access.engine).append("key-revoke", owner_id=owner_id,
                                   details={"prefix": args.prefix})
    print(f"key {args.prefix} revoked", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise ValueError("`voxclone serve` needs the server extra: "
                         "pip install 'voxclone[server]'") from None
    from voxclone.server import create_app
    from voxclone.server.state import ServerConfig

    megabyte = 1 << 20
    config = ServerConfig(max_upload_bytes=args.max_upload_mb * megabyte,
                          max_request_bytes=args.max_request_mb * megabyte,
                          max_references=args.max_references, max_effort=args.max_effort,
                          max_enrollments=args.max_enrollments,
                          max_enrollments_per_owner=args.max_enrollments_per_owner,
                          max_text_chars=args.max_text_chars,
                          max_streams=args.max_streams,
                          max_stream_chars=args.max_stream_chars,
                          stream_idle_seconds=args.stream_idle_seconds,
                          synthesis_slots=args.synthesis_slots)
    app = create_app(args.database_url, config=config)
    print(f"voxclone: serving on http://{args.host}:{args.port}/ (API docs at /docs)",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port,
                log_level="warning" if not args.verbose else "info")
    return EXIT_OK
