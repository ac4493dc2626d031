"""Routes for consent challenges, enrollment (as a background job), voices, their consent
records and grants."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from voxclone.api import MAX_CLIP_SECONDS, enroll_with_record
from voxclone.api_consent import challenge as issue_challenge
from voxclone.clone.profile import check_name
from voxclone.consent import ConsentStore
from voxclone.consent.voice_seal import sealed_with_record
from voxclone.errors import AccessError, AudioError, VoiceNotFoundError
from voxclone.quality import QualityReport, check
from voxclone.registry.voices import VoiceEntry
from voxclone.server.auth import Caller, Poller, State
from voxclone.server.errors import error_body
from voxclone.server.uploads import (
    check_count,
    check_uploads,
    decode_upload,
    read_uploads,
    upload_label,
    with_clip_labels,
)

router = APIRouter(prefix="/v1", tags=["voices"])


class ChallengeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="the voice's name, said in the consent statement",
                      min_length=1, max_length=64)


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str = Field(min_length=1, max_length=100, description="the grantee's owner name")


def voice_json(entry: VoiceEntry, viewer_id: int) -> dict[str, Any]:
    """What an owner (or a grantee) sees of a voice."""
    profile = entry.profile
    mine = entry.owner_id == viewer_id
    return {"name": entry.name if mine else entry.ref, "owner": entry.owner, "own": mine,
            "created": entry.created_at, "effort": profile.effort,
            "score": round(profile.score, 4), "speech_seconds": profile.speech_seconds,
            "warnings": list(profile.warnings)}


@router.post("/consent/challenges", status_code=201)
def new_challenge(body: ChallengeRequest, who: Caller, state: State) -> dict[str, Any]:
    """Issue a consent challenge: the speaker reads ``text`` aloud, in one recording,
    which is sent with the reference clips to ``POST /v1/voices``."""
    issued = issue_challenge(check_name(body.name), audit=state.context(who))
    return {"id": issued.id, "name": issued.name, "text": issued.text,
            "expires": issued.expires.isoformat()}


@router.post("/voices", status_code=202)
async def enroll(
    who: Caller, state: State,
    name: Annotated[str, Form(min_length=1, max_length=64)],
    challenge: Annotated[str, Form(min_length=1, max_length=64)],
    references: Annotated[list[UploadFile], File(description="recordings of the speaker")],
    consent: Annotated[UploadFile, File(description="the speaker reading the challenge")],
    effort: Annotated[Literal["stock", "fast", "balanced", "best"], Form()] = "fast",
) -> dict[str, Any]:
    """Start enrolling a voice (consent verified first); poll ``/v1/jobs/{id}``. Errors
    name the upload at fault by its file name (``reference 2 (take2.wav): ...``); an
    upload that cannot be decoded, or over the server's limits, fails the request itself
    (422, 413), and a full queue refuses it (429)."""
    config = state.config
    if not config.effort_allowed(effort):
        raise AccessError(f"effort {effort!r} is not allowed on this server: it enrolls at "
                          f"most at {config.max_effort!r}; send effort={config.max_effort} "
                          "or lower")
    check_count(len(references), config.max_references, "reference recordings")
    uploads = [*references, consent]
    labels = [*(upload_label(f"reference {i}", f) for i, f in enumerate(references, 1)),
              upload_label("the consent recording", consent)]
    check_uploads(uploads, labels, per_file=config.max_upload_bytes,
                  total=config.max_request_bytes)
    state.voices.check_free(who.owner, check_name(name))
    context = state.context(who)
    with state.jobs.admit(who.owner.id) as place:  # (429 when the queue is full)
        data = await read_uploads(uploads, labels, per_file=config.max_upload_bytes,
                                  total=config.max_request_bytes)
        # decoded now, so that an unreadable upload fails this request (naming it), not
        # a job; enrollment decodes the bytes again, and keeps the SHA-256 of each file
        # in the consent record
        await run_in_threadpool(_decodable, data, labels)
        clips, consent_audio, clip_labels = data[:-1], data[-1], labels[:-1]

        def work(progress: Any) -> dict[str, Any]:
            profile, record = enroll_with_record(
                name, clips, consent=consent_audio, challenge=challenge, effort=effort,
                save=False, progress=progress, audit=context)
            # the warnings name the uploaded files: sealed again over the relabelled profile
            profile, record = sealed_with_record(replace(profile, warnings=tuple(
                with_clip_labels(w, clip_labels) for w in profile.warnings)), record)
            entry = state.voices.add(who.owner, profile, ConsentStore().sealed(record))
            return voice_json(entry, who.owner.id)

        def describe(exc: BaseException) -> dict[str, str]:
            body = error_body(exc)
            if isinstance(exc, AudioError):  # the quality gate's "clip 1" is a file here
                body["message"] = with_clip_labels(body["message"], clip_labels)
            return body

        job = state.jobs.submit(place, name, work, describe)
    return job.to_json()


def _decodable(data: list[bytes], labels: list[str]) -> None:
    """Decode each upload once, one at a time (CPU-bound: off the event loop).

    Raises:
        AudioError / AudioFormatError: naming the upload at fault.
    """
    for one, label in zip(data, labels, strict=True):
        decode_upload(one, label, max_seconds=MAX_CLIP_SECONDS)


@router.post("/check")
async def check_references(
    who: Caller, state: State,
    files: Annotated[list[UploadFile], File(description="reference recordings to check")],
) -> dict[str, Any]:
    """The quality report of reference recordings (what enrollment would refuse, and
    what to fix), without enrolling anything."""
    config = state.config
    check_count(len(files), config.max_references, "files")
    labels = [upload_label(f"file {i}", f) for i, f in enumerate(files, 1)]
    clips = await read_uploads(files, labels, per_file=config.max_upload_bytes,
                               total=config.max_request_bytes)

    def checked() -> QualityReport:
        return check([decode_upload(data, label, max_seconds=MAX_CLIP_SECONDS)
                      for data, label in zip(clips, labels, strict=True)])

    report = await run_in_threadpool(checked)
    body: dict[str, Any] = report.as_dict()
    for clip, upload in zip(body["clips"], files, strict=True):
        clip["name"] = upload.filename or clip["name"]
    return body


@router.get("/jobs/{job_id}")
def job(job_id: str, who: Poller, state: State) -> dict[str, Any]:
    """An enrollment job: status (queued/running/done/failed), progress 0-1, the best
    similarity so far, then the voice or the error. Polling is not rate-limited."""
    return state.jobs.get(who.owner.id, job_id).to_json()


@router.get("/voices")
def voices(who: Caller, state: State) -> list[dict[str, Any]]:
    """Your voices, then the voices granted to you (named OWNER/NAME)."""
    return [voice_json(e, who.owner.id) for e in state.voices.listing(who.owner)]


@router.get("/voices/{name}")
def voice(name: str, who: Caller, state: State) -> dict[str, Any]:
    """One of your voices."""
    return voice_json(state.voices.own(who.owner, name), who.owner.id)


@router.delete("/voices/{name}", status_code=204)
def revoke(name: str, who: Caller, state: State) -> Response:
    """Revoke one of your voices: its profile, embedding, consent record and grants are
    deleted, and its seal listed as revoked (a copy of it no longer speaks); the audit
    log keeps that it happened."""
    entry = state.voices.remove(who.owner, name)
    state.audit.append("revoke", actor=who.actor, owner_id=who.owner.id, voice=entry.name,
                       details={"created": entry.created_at})
    return Response(status_code=204)


@router.get("/voices/{name}/consent")
def consent_record(name: str, who: Caller, state: State) -> dict[str, Any]:
    """The signature-checked consent record of one of your voices."""
    entry = state.voices.own(who.owner, name)
    record = ConsentStore().unsealed(entry.consent, origin=f"voice {name}")
    return record.to_json()


@router.get("/voices/{name}/grants")
def grants(name: str, who: Caller, state: State) -> list[str]:
    """The owners one of your voices is granted to."""
    return state.voices.grantees(who.owner, name)


@router.post("/voices/{name}/grants", status_code=204)
def grant(name: str, body: GrantRequest, who: Caller, state: State) -> Response:
    """Let another owner speak with one of your voices (they name it OWNER/NAME)."""
    try:
        grantee = state.access.owner(body.owner)
    except LookupError:
        raise VoiceNotFoundError(f"no owner named {body.owner!r}") from None
    state.voices.grant(who.owner, name, grantee)
    state.audit.append("grant", actor=who.actor, owner_id=who.owner.id, voice=name,
                       details={"grantee": grantee.name})
    return Response(status_code=204)


@router.delete("/voices/{name}/grants/{owner}", status_code=204)
def ungrant(name: str, owner: str, who: Caller, state: State) -> Response:
    """Withdraw a grant."""
    try:
        grantee = state.access.owner(owner)
    except LookupError:
        raise VoiceNotFoundError(f"no owner named {owner!r}") from None
    if not state.voices.ungrant(who.owner, name, grantee):
        raise VoiceNotFoundError(f"{name!r} is not granted to {owner!r}")
    state.audit.append("ungrant", actor=who.actor, owner_id=who.owner.id, voice=name,
                       details={"grantee": grantee.name})
    return Response(status_code=204)
