"""Storing a voice's profile and its consent record as one: both, or what was there.

Enrollment writes the two files, then appends its audit entry; a voice the audit log
does not know of must not stay, and a failed enrollment must not cost the voice it was
meant to replace (``overwrite``). So the files are written inside a block that puts
back what was there before - the old voice, or nothing - if anything in it fails.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator

from voxclone.atomic_file import write_bytes_atomic
from voxclone.clone.profile import VoiceProfile, VoiceStore
from voxclone.consent import ConsentRecord, ConsentStore
from voxclone.consent.revoked_seals import revoke_seal
from voxclone.consent.signed_json import erase
from voxclone.errors import ProfileError

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def stored_together(store: VoiceStore, profile: VoiceProfile, record: ConsentRecord, *,
                    overwrite: bool = False) -> Iterator[None]:
    """Write ``profile`` and its consent ``record``, then run the block; if writing or
    the block raises (an interrupt too), the voice's files are put back as they were.

    The new files are erased (overwritten with zeros first), since they hold a
    speaker's embedding; old ones are rewritten atomically from their saved bytes. A
    voice replaced for good has its old profile's seal listed as revoked
    (:mod:`voxclone.consent.revoked_seals`): copies of it no longer speak.
    (A process killed outright in between can still leave the new profile beside the
    old consent record.)

    Raises:
        VoiceExistsError: the name is taken and ``overwrite`` is false.
        SecretError: the installation secret is unusable (nothing is written).
        OSError: a file cannot be written (what was there is put back).
    """
    consents = ConsentStore(store.directory)
    consents.key  # noqa: B018 - fail on an unusable secret before writing anything
    if not overwrite:
        store.check_free(profile.name)
    paths = (store.path(profile.name), consents.path(profile.name))
    before = {path: path.read_bytes() if path.is_file() else None for path in paths}
    try:
        store.save(profile, overwrite=True)
        consents.save(record)
        yield
        _replaced(before[paths[0]], profile.name)
    except BaseException:
        for path, old in before.items():
            try:
                erase(path)
                if old is not None:
                    write_bytes_atomic(path, old)
            except OSError as exc:  # keep the original error; say what is left behind
                logger.error("could not restore %s after a failed enrollment: %s", path, exc)
        raise


def _replaced(old: bytes | None, name: str) -> None:
    """List the seal of the profile that ``old`` (its file's bytes) held, if any."""
    if old is None:
        return
    try:
        replaced = VoiceProfile.from_json(json.loads(old), origin=f"the replaced voice {name}")
    except (ValueError, ProfileError) as exc:  # damaged: no seal of it checks anyway
        logger.warning("the replaced profile of %s was unreadable (%s)", name, exc)
        return
    revoke_seal(replaced, "replaced")
