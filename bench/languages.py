"""Cloned voices speaking other languages: identity, enrollment language, content.

Three measurements, written to ``bench/results/languages.md`` and ``.json``:

1. **Identity across languages.** LibriSpeech speakers (English, half female) are
   enrolled at effort ``fast`` from the first 6 s of speech of one utterance; each clone
   speaks 3 sentences in every language. The clip's GE2E d-vector is compared with the
   speaker's *held-out* real English speech and normalised as in ``clone_quality``
   (``(cos - different-speaker mean) / (same-speaker mean - different-speaker mean)``,
   both means measured here on LibriSpeech). The English row is the same-language
   baseline for the same speakers. Because the encoder itself hears a language change,
   the stock packs are measured the same way: each pack speaking the language against
   the same pack speaking other English sentences (identical style vector, so any drop
   is the encoder's and the phonemes', not the clone's).
2. **Enrollment language.** The real corpus is English only, so each stock pack plays
   "the person": it speaks a reference in English, Spanish or Japanese (rendered through
   the pipeline without watermark), a clone is enrolled from that reference, and the
   clone's English is compared with the pack's own held-out English. Normalised with
   the packs: same = pack vs itself on other sentences, different = pack vs other packs.
3. **Is the speech the text?** pocketsphinx (US English, in its wheel) transcribes the
   English clips (word error rate). For the other languages no offline recogniser
   installs with its model (vosk, sherpa-onnx and faster-whisper all fetch models from a
   hub), so a weaker proxy is used: each clip is matched by DTW over MFCCs against
   espeak-ng speaking each of the language's 3 sentences (Japanese as pyopenjtalk's
   katakana reading); "content match" is the share of clips closest to their own
   sentence (chance: 1/3). It tells a sentence from the other two, not every word.

Run (about 20 min on 2 idle cores)::

    nice -n 10 python bench/languages.py [--speakers 8] [--packs 3] [--languages es,ja] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import voxclone
from voxclone.audio import Audio
from voxclone.audio.prosody import ProsodyStats
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.profile import SourceClip, VoiceProfile
from voxclone.consent.voice_seal import seal_voice
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.errors import VoxcloneError
from voxclone.pipeline import SynthesisOptions, Synthesizer
from voxclone.speaker import cosine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
from espeak_tts import espeak_speak

#: Three sentences per language (about 2-4 s each), never used for enrollment.
SENTENCES: dict[str, tuple[str, str, str]] = {
    "en-us": ("Could you pick up some bread and milk on your way home?",
              "The meeting has been moved to Thursday afternoon.",
              "We waited outside the station for almost an hour."),
    "es": ("¿Puedes comprar pan y leche de camino a casa?",
           "La reunión se ha movido al jueves por la tarde.",
           "Esperamos fuera de la estación casi una hora."),
    "fr": ("Tu peux acheter du pain et du lait en rentrant ?",
           "La réunion a été déplacée à jeudi après-midi.",
           "Nous avons attendu devant la gare presque une heure."),
    "it": ("Puoi comprare pane e latte mentre torni a casa?",
           "La riunione è stata spostata a giovedì pomeriggio.",
           "Abbiamo aspettato fuori dalla stazione quasi un'ora."),
    "pt-br": ("Você pode comprar pão e leite no caminho de casa?",
              "A reunião foi transferida para quinta à tarde.",
              "Esperamos do lado de fora da estação quase uma hora."),
    "hi": ("क्या आप घर आते समय ब्रेड और दूध ला सकते हैं?",
           "बैठक को गुरुवार दोपहर तक टाल दिया गया है।",
           "हमने स्टेशन के बाहर लगभग एक घंटे इंतज़ार किया।"),
    "ja": ("帰りにパンと牛乳を買ってきてくれますか？",
           "会議は木曜日の午後に変更になりました。",
           "私たちは駅の外でほぼ一時間待ちました。"),
    "zh": ("你回家的路上能买些面包和牛奶吗？",
           "会议改到了星期四下午。",
           "我们在车站外面等了将近一个小时。"),
}
#: espeak-ng voices for the content proxy (Japanese is given its katakana reading:
#: espeak-ng reads kana, not kanji).
ESPEAK_VOICES = {"en-us": "en-us", "es": "es", "fr": "fr", "it": "it", "pt-br": "pt-br", "hi": "hi",
                 "ja": "ja", "zh": "cmn"}
#: What a stock pack says as "the person's" reference, per reference language.
REFERENCES = {
    "en-us": "My grandmother grew tomatoes and beans in a small garden behind the house. "
             "Every summer we helped her carry water from the old well.",
    "es": "Mi abuela cultivaba tomates y judías en un pequeño huerto detrás de la casa. "
          "Cada verano la ayudábamos a llevar agua del viejo pozo.",
    "ja": "祖母は家の裏の小さな畑でトマトと豆を育てていました。"
          "毎年夏になると、私たちは古い井戸から水を運ぶのを手伝いました。",
}
#: The packs' own held-out English (other words than everything above).
PACK_HELDOUT = ("The library closes early on public holidays.",
                "She painted the fence a bright shade of green.",
                "Our train was delayed by a fallen tree on the line.")
DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "languages"
NORMALISATION_UTTERANCES = 60  # LibriSpeech utterances the normalisation is measured on
GAP_S = 0.25


_STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.0f} s] {message}", flush=True)


def join(clips: Sequence[Audio]) -> Audio:
    rate = clips[0].sample_rate
    gap = np.zeros(int(GAP_S * rate), np.float32)
    parts = [p for clip in clips for p in (clip.samples, gap)][:-1]
    return Audio(np.concatenate(parts), rate)


def pack_voice(pack: str) -> VoiceProfile:
    """A stock pack as a voice (its own conditioning; the other fields are unused here)."""
    unit = np.zeros(256, np.float32)
    unit[0] = 1.0
    # made by hand on purpose, so sealed here to speak (voxclone.consent.voice_seal)
    return seal_voice(VoiceProfile(name=f"pack-{pack}", embedding=unit,
                                   conditioning=StyleConditioning({pack: 1.0}),
                                   prosody=ProsodyStats(200.0, 150.0, 300.0, 4.0, 0.5),
                                   sources=(SourceClip("0" * 64, 0.0, 0.0),),
                                   engine=default_engine().name, effort="stock", score=0.0))


# ------------------------------------------------------------------ content proxy


def _mfcc(audio: Audio) -> np.ndarray:
    import librosa

    samples = audio.resample(16_000).samples
    features = librosa.feature.mfcc(y=samples, sr=16_000, n_mfcc=20, hop_length=160)[1:]
    features = features[:, np.abs(features).sum(axis=0) > 0]
    return (features - features.mean(axis=1, keepdims=True)) / (
        features.std(axis=1, keepdims=True) + 1e-6)


def dtw_cost(a: np.ndarray, b: np.ndarray) -> float:
    """Mean per-step cost of the best DTW alignment of two MFCC sequences."""
    import librosa

    matrix, path = librosa.sequence.dtw(X=a, Y=b, metric="cosine")
    return float(matrix[-1, -1] / len(path))


def _espeak_text(code: str, text: str) -> str:
    if code != "ja":
        return text
    import pyopenjtalk

    return str(pyopenjtalk.g2p(text, kana=True))


def content_matches(clips: Sequence[Audio], refs: Sequence[np.ndarray]) -> int:
    """How many clips are DTW-closest to the espeak rendering of their own sentence."""
    hits = 0
    for index, clip in enumerate(clips):
        costs = [dtw_cost(_mfcc(clip), ref) for ref in refs]
        hits += int(np.argmin(costs)) == index
    return hits


# ------------------------------------------------------------- 1. identity across languages


def clone_rows(candidates: Sequence[sd.Utterance], count: int,
               languages: Mapping[str, Sequence[str]], heldout: Mapping[str, np.ndarray],
               norm: sd.Normalisation, recognizer: sd.Recognizer,
               espeak_refs: Mapping[str, list[np.ndarray]],
               ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Rows for the first ``count`` candidates (half of each gender) whose reference the
    quality gate accepts; the refused ones are returned as skipped."""
    rows, skipped = [], []
    wanted = {"F": count - count // 2, "M": count // 2}
    for utterance in candidates:
        if wanted[utterance.gender] == 0:
            continue
        split = sd.split_utterance(utterance)
        assert split is not None  # chosen among usable utterances
        began = time.perf_counter()
        try:
            profile = voxclone.enroll(f"bench-{utterance.speaker}", split.reference,
                                      effort="fast", save=False,
                                      i_am_the_speaker=True)  # public benchmark speech
        except VoxcloneError as exc:
            log(f"  {utterance.speaker}: reference refused, next speaker ({exc})")
            skipped.append({"speaker": utterance.speaker, "error": str(exc)})
            continue
        wanted[utterance.gender] -= 1
        index = count - sum(wanted.values())
        enroll_s = time.perf_counter() - began
        for code, texts in languages.items():
            began = time.perf_counter()
            clips = [voxclone.synthesize(t, profile, language=code) for t in texts]
            compute_s = time.perf_counter() - began
            raw = cosine(voxclone.embed(join(clips)), heldout[utterance.speaker])
            row: dict[str, Any] = {
                "speaker": utterance.speaker, "gender": utterance.gender, "language": code,
                "cosine": raw, "similarity": norm.normalise(raw), "enroll_s": enroll_s,
                "audio_s": sum(c.duration for c in clips),
                "rtf": compute_s / sum(c.duration for c in clips)}
            if code == "en-us":
                transcripts = [sd.score_transcript(recognizer, t, c)
                               for t, c in zip(texts, clips, strict=True)]
                row["asr_errors"] = sum(t.errors for t in transcripts)
                row["asr_words"] = sum(t.words for t in transcripts)
            if code in espeak_refs:
                row["content_hits"] = content_matches(clips, espeak_refs[code])
            rows.append(row)
        mean = np.mean([r["similarity"] for r in rows if r["speaker"] == utterance.speaker])
        log(f"[{index}/{count}] {utterance.speaker} ({utterance.gender}) enrolled in "
            f"{enroll_s:.1f} s; mean sim over languages {mean:.3f}")
    return rows, skipped


def pack_language_rows(synth: Synthesizer, packs: Sequence[str],
                       languages: Mapping[str, Sequence[str]],
                       espeak_refs: Mapping[str, list[np.ndarray]]) -> list[dict[str, Any]]:
    """Each pack speaking each language against the same pack's held-out English."""
    rows = []
    for pack in packs:
        voice = pack_voice(pack)
        own = voxclone.embed(join([synth.synthesize(t, voice) for t in PACK_HELDOUT]))
        for code, texts in languages.items():
            clips = [synth.synthesize(t, voice, SynthesisOptions(language=code))
                     for t in texts]
            row = {"pack": pack, "language": code,
                   "cosine": cosine(voxclone.embed(join(clips)), own)}
            if code in espeak_refs:
                row["content_hits"] = content_matches(clips, espeak_refs[code])
            rows.append(row)
        log(f"  pack {pack}: languages rendered")
    return rows


# --------------------------------------------------------------- 2. enrollment language


def reference_rows(synth: Synthesizer, packs: Sequence[str]) -> tuple[list[dict[str, Any]],
                                                                      dict[str, float]]:
    """Clones of each pack enrolled from a reference in each language, speaking English."""
    own: dict[str, np.ndarray] = {}
    other: dict[str, np.ndarray] = {}
    for pack in packs:
        voice = pack_voice(pack)
        own[pack] = voxclone.embed(join([synth.synthesize(t, voice) for t in PACK_HELDOUT]))
        other[pack] = voxclone.embed(join([synth.synthesize(t, voice)
                                           for t in SENTENCES["en-us"]]))
    same = float(np.mean([cosine(other[p], own[p]) for p in packs]))
    diff = float(np.mean([cosine(other[p], own[q]) for p in packs for q in packs if p != q]))
    norm = sd.Normalisation(same, diff, len(packs))
    rows = []
    for pack in packs:
        voice = pack_voice(pack)
        for code, text in REFERENCES.items():
            reference = synth.synthesize(text, voice, SynthesisOptions(language=code))
            try:
                profile = voxclone.enroll(f"bench-{pack}-{code}", reference, effort="fast",
                                          save=False, i_am_the_speaker=True)  # a stock voice
            except VoxcloneError as exc:
                log(f"  pack {pack}, {code} reference refused: {exc}")
                continue
            clips = [voxclone.synthesize(t, profile) for t in SENTENCES["en-us"]]
            raw = cosine(voxclone.embed(join(clips)), own[pack])
            rows.append({"pack": pack, "reference_language": code,
                         "reference_s": reference.duration, "cosine": raw,
                         "similarity": norm.normalise(raw)})
            log(f"  pack {pack}, {code} reference ({reference.duration:.1f} s): "
                f"sim {norm.normalise(raw):.3f}")
    return rows, {"same_mean": same, "diff_mean": diff}


# ------------------------------------------------------------------------------ report


def summarise(clones: Sequence[dict[str, Any]], packs: Sequence[dict[str, Any]],
              languages: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    english = {r["speaker"]: r["similarity"] for r in clones if r["language"] == "en-us"}
    pack_en = {r["pack"]: r["cosine"] for r in packs if r["language"] == "en-us"}
    table = []
    for code in languages:
        rows = [r for r in clones if r["language"] == code]
        prow = [r for r in packs if r["language"] == code]
        entry: dict[str, Any] = {
            "language": code, "speakers": len(rows),
            "sim_mean": float(np.mean([r["similarity"] for r in rows])),
            "sim_median": float(np.median([r["similarity"] for r in rows])),
            "cos_mean": float(np.mean([r["cosine"] for r in rows])),
            "delta_vs_english": float(np.mean([r["similarity"] - english[r["speaker"]]
                                               for r in rows])),
            "pack_cos": float(np.mean([r["cosine"] for r in prow])),
            "pack_delta": float(np.mean([r["cosine"] - pack_en[r["pack"]] for r in prow])),
            "rtf_median": float(np.median([r["rtf"] for r in rows])),
        }
        if code == "en-us":
            entry["asr_wer"] = (sum(r["asr_errors"] for r in rows)
                                / sum(r["asr_words"] for r in rows))
        if code in ESPEAK_VOICES:  # every language: 3 sentences per clip set
            entry["content_match"] = (sum(r["content_hits"] for r in rows)
                                      / (3 * len(rows)))
            entry["pack_content_match"] = (sum(r["content_hits"] for r in prow)
                                           / (3 * len(prow)))
        table.append(entry)
    return table


def render(meta: Mapping[str, Any], table: Sequence[dict[str, Any]],
           references: Sequence[dict[str, Any]]) -> str:
    norm = meta["normalisation"]
    lines = [
        "# Languages: a cloned voice speaking other languages", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {len(meta['speakers'])} LibriSpeech speakers (half female), enrolled at effort "
        "`fast` from 6 s of English; 3 sentences per language; similarity to the "
        "speaker's held-out real English, normalised over "
        f"{norm['speakers']} speakers: same {norm['same_mean']:.3f}, "
        f"different {norm['diff_mean']:.3f} (GE2E, voxclone.embed)",
        "- pack cos: the stock packs (same style vector) speaking the language vs the same "
        "pack's other English sentences: the drop the encoder and the phonemes cause "
        "without any cloning",
        "- content: the share of clips whose DTW-nearest espeak-ng rendering is their own "
        "sentence (chance 33%), and for English pocketsphinx's word error rate (no offline "
        "recogniser installs with a model for these languages; Japanese is given to "
        "espeak-ng as its katakana reading); a proxy that tells a sentence from the "
        "other two, not a word error rate",
        f"- speakers whose reference the quality gate refused (replaced by the next of "
        f"their gender): {', '.join(s['speaker'] for s in meta['skipped_speakers']) or 'none'}",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| language | speakers | sim mean | sim median | raw cos | Δ sim vs English "
        "clone | pack cos | Δ pack cos vs English | content (clones) | content (packs) "
        "| RTF |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in table:
        content = f"{e['content_match']:.0%}"
        if "asr_wer" in e:
            content += f" (WER {e['asr_wer']:.1%})"
        pack_content = f"{e['pack_content_match']:.0%}"
        lines.append(
            f"| {e['language']} | {e['speakers']} | {e['sim_mean']:.3f} | "
            f"{e['sim_median']:.3f} | {e['cos_mean']:.3f} | {e['delta_vs_english']:+.3f} | "
            f"{e['pack_cos']:.3f} | {e['pack_delta']:+.3f} | {content} | {pack_content} | "
            f"{e['rtf_median']:.2f} |")
    ref_norm = meta["reference_normalisation"]
    lines += [
        "", "## Enrollment from a non-English reference", "",
        "Each stock pack plays the person: a clone enrolled (effort `fast`) from the pack "
        "speaking a reference in that language, speaking English, against the pack's own "
        f"held-out English. Normalised over the packs: same {ref_norm['same_mean']:.3f}, "
        f"different {ref_norm['diff_mean']:.3f}.", "",
        "| reference language | packs | sim mean | sim median | raw cos | reference s |",
        "|---|---|---|---|---|---|",
    ]
    for code in REFERENCES:
        rows = [r for r in references if r["reference_language"] == code]
        lines.append(
            f"| {code} | {len(rows)} | {np.mean([r['similarity'] for r in rows]):.3f} | "
            f"{np.median([r['similarity'] for r in rows]):.3f} | "
            f"{np.mean([r['cosine'] for r in rows]):.3f} | "
            f"{np.mean([r['reference_s'] for r in rows]):.1f} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--speakers", type=int, default=8)
    parser.add_argument("--speech-dir", help="folder with index.csv (default ../shared/speech)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output path without suffix")
    parser.add_argument("--packs", type=int, default=3,
                        help="stock packs playing 'the person' (default 3: two female, the male)")
    parser.add_argument("--languages", default=",".join(SENTENCES),
                        help="comma-separated language codes (en-us is always included)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 speakers, 2 packs, en-us and ja; not written to "
                             "bench/results")
    args = parser.parse_args(argv)
    args.languages = ["en-us"] + [c for c in args.languages.split(",")
                                  if c.strip() and c.strip() != "en-us"]
    if args.quick:
        args.speakers, args.packs, args.languages = 2, 2, ["en-us", "ja"]
    unknown = [c for c in args.languages if c not in SENTENCES]
    if args.speakers < 2 or not 2 <= args.packs <= 5 or unknown:
        parser.error(f"need --speakers >= 2, --packs 2-5, languages among {list(SENTENCES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    home = tempfile.TemporaryDirectory(prefix="voxclone-languages-bench-")
    os.environ["VOXCLONE_HOME"] = home.name  # the audit log of these syntheses stays here
    speakers = args.speakers
    # The male pack first, then female ones: the packs cover both.
    packs = sorted(stock_packs(), key=lambda name: (not name.startswith("jm_"), name))
    packs = packs[:args.packs]
    languages = {code: SENTENCES[code] for code in args.languages}
    folder = sd.corpus_dir(args.speech_dir)
    utterances = sd.read_index(folder)
    sample = utterances[::max(1, len(utterances) // NORMALISATION_UTTERANCES)]
    log(f"languages: {speakers} speakers, packs {','.join(packs)}; normalisation on "
        f"{NORMALISATION_UTTERANCES} utterances of {folder}")
    norm, heldout = sd.measure_normalisation(sample[:NORMALISATION_UTTERANCES],
                                             voxclone.embed, log)
    # Spares: a reference the quality gate refuses is replaced by the next of its gender.
    candidates = sd.choose_speakers(sample, set(heldout), speakers + 4)
    espeak_refs = {code: [_mfcc(espeak_speak(_espeak_text(code, t), voice))
                          for t in SENTENCES[code]]
                   for code, voice in ESPEAK_VOICES.items() if code in languages}
    synth = Synthesizer(default_engine(), stock_packs())

    log("1. identity across languages: stock packs")
    pack_rows = pack_language_rows(synth, packs, languages, espeak_refs)
    log("1. identity across languages: clones of LibriSpeech speakers")
    clones, skipped = clone_rows(candidates, speakers, languages, heldout, norm,
                                 sd.Recognizer(), espeak_refs)
    log("2. enrollment from a non-English reference")
    references, ref_norm = reference_rows(synth, packs)

    table = summarise(clones, pack_rows, languages)
    meta = {
        "date": sd.now(), "machine": sd.machine(), "git_commit": sd.git_commit(),
        "voxclone_version": voxclone.__version__, "data": str(folder),
        "speakers": list(dict.fromkeys(r["speaker"] for r in clones)),
        "skipped_speakers": skipped, "packs": list(packs),
        "sentences": languages, "references": REFERENCES, "pack_heldout": PACK_HELDOUT,
        "normalisation": {"same_mean": norm.same_mean, "diff_mean": norm.diff_mean,
                          "speakers": norm.speakers},
        "reference_normalisation": ref_norm, "wall_s": time.perf_counter() - started,
    }
    text = render(meta, table, references)
    print()  # a blank line between the progress log and the tables
    if args.quick:
        print(text, flush=True)
    else:
        sd.write_results(args.out, text, {"meta": meta, "summary": table, "clones": clones,
                                          "packs": pack_rows, "references": references})
    home.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
