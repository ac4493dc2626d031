"""The consent subcommands of the ``voxclone`` command line (thin over :mod:`voxclone.api`).

::

    voxclone challenge NAME [--valid-for SECONDS] [--json]
    voxclone consent show NAME [--json] [--voices-dir DIR]
    voxclone revoke NAME [--voices-dir DIR]

``voxclone enroll`` takes ``--consent FILE --challenge ID`` (or ``--i-am-the-speaker``);
those flags live in :mod:`voxclone.cli` with the rest of ``enroll``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

import voxclone
from voxclone.consent import ConsentRecord

EXIT_OK = 0


def add_consent_commands(sub: Any, flags: argparse.ArgumentParser,
                         voices_dir: argparse.ArgumentParser) -> None:
    """Add ``challenge``, ``consent`` and ``revoke`` to the subcommand parser ``sub``."""
    p = sub.add_parser("challenge", parents=[flags],
                       help="issue the consent challenge a speaker reads before enrollment",
                       description="Print the consent statement and a random phrase for the "
                                   "voice NAME. The speaker reads both in one recording, "
                                   "which `voxclone enroll` checks.")
    p.add_argument("name", metavar="NAME", help="the voice to be enrolled")
    p.add_argument("--valid-for", type=float, default=600.0, metavar="SECONDS",
                   help="how long the challenge can be used (default: 600)")
    p.add_argument("--json", action="store_true", help="print JSON instead of instructions")
    p.set_defaults(handler=cmd_challenge)

    p = sub.add_parser("consent", parents=[flags], help="show a voice's consent record")
    consent_sub = p.add_subparsers(dest="consent_command", required=True, metavar="ACTION")
    show = consent_sub.add_parser("show", parents=[flags, voices_dir],
                                  help="print the signed consent record of a voice",
                                  description="Print the consent record of NAME after "
                                              "checking its signature.")
    show.add_argument("name", metavar="NAME", help="a stored voice")
    show.add_argument("--json", action="store_true", help="print the record as JSON")
    show.set_defaults(handler=cmd_consent_show)

    p = sub.add_parser("revoke", parents=[flags, voices_dir],
                       help="delete a voice and its consent, keeping a record that it happened",
                       description="Delete the voice NAME (its profile and speaker embedding) "
                                   "and its consent record; a signed revocation record is kept.")
    p.add_argument("name", metavar="NAME", help="the voice to revoke")
    p.set_defaults(handler=cmd_revoke)


def cmd_challenge(args: argparse.Namespace) -> int:
    """``voxclone challenge NAME``: issue a challenge and say what to do with it."""
    challenge = voxclone.challenge(args.name, valid_for=args.valid_for)
    if args.json:
        print(json.dumps({**challenge.to_json(), "statement": challenge.statement,
                          "text": challenge.text}, indent=2))
        return EXIT_OK
    expires = challenge.expires.astimezone().strftime("%H:%M:%S")
    print(f"Record {challenge.name} reading this aloud, in one take (until {expires}):\n\n"
          f"    {challenge.statement}\n    {challenge.phrase_text}\n\n"
          f"challenge id: {challenge.id}\n\n"
          f"then: voxclone enroll {challenge.name} CLIP... --consent RECORDING.wav "
          f"--challenge {challenge.id}")
    return EXIT_OK


def describe_record(record: ConsentRecord) -> str:
    """A consent record as aligned ``field: value`` lines."""
    rows: list[tuple[str, Any]] = [
        ("voice", record.name), ("decision", record.decision), ("when", record.created),
    ]
    if record.waiver:
        rows.append(("waiver", record.waiver))
    else:
        rows += [
            ("challenge", record.challenge_id), ("statement", record.statement),
            ("phrase", " ".join(record.phrase or ())), ("heard", record.transcript),
            ("statement heard", f"{record.statement_recall:.0%}"
             if record.statement_recall is not None else None),
            ("speaker", f"{record.speaker_cosine:.3f} (threshold {record.speaker_threshold})"),
            *([("phrase speaker", f"{record.phrase_cosine:.3f}")]
              if record.phrase_cosine is not None else []),  # (older records: not judged)
            ("synthetic check", record.synthetic_check),
            ("consent sha256", record.consent_sha256),
        ]
    rows.append(("reference sha256", ", ".join(record.reference_sha256)))
    if record.profile_sha256 is not None:  # (records from before seals name no profile)
        rows.append(("profile sha256", record.profile_sha256))
    rows += [("voxclone", record.voxclone_version), ("signature", "valid")]
    width = max(len(label) for label, _ in rows) + 1
    return "\n".join(f"{label + ':':<{width}} {value}" for label, value in rows)


def cmd_consent_show(args: argparse.Namespace) -> int:
    """``voxclone consent show NAME``: the verified consent record."""
    record = voxclone.consent_record(args.name, voices_dir=args.voices_dir)
    if args.json:
        print(json.dumps(record.to_json(), indent=2))
    else:
        print(describe_record(record))
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    """``voxclone revoke NAME``: delete the voice and its consent record."""
    record = voxclone.revoke(args.name, voices_dir=args.voices_dir)
    if not args.quiet:
        print(f"revoked voice {record.name!r} at {record.revoked}: profile, speaker "
              f"embedding and consent record deleted; revocation recorded "
              f"({json.dumps(asdict(record))})", file=sys.stderr)
    return EXIT_OK
