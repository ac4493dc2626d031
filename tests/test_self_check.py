"""Synthesis that listens to itself (voxclone.asr): word errors, the re-render policy,
and a garbling voice rendered intelligibly with ``check_words``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import voxclone
from voxclone.asr import default_recognizer, word_error_rate, word_errors, words
from voxclone.asr.self_check import is_garbled, speak_checked
from voxclone.audio import Audio
from voxclone.audio.pauses import sound_span
from voxclone.audio.prosody import ProsodyStats
from voxclone.clone.conditioning import StyleConditioning, pack_scale
from voxclone.clone.profile import VoiceProfile
from voxclone.consent.voice_seal import seal_voice
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.pipeline import SynthesisOptions, Synthesizer

from .conftest import piper_speak

SENTENCE = "We waited outside the station for almost an hour."


def test_speech_that_starts_at_once_keeps_its_first_word() -> None:
    """Synthesis starts speaking 20 ms in; the recognizer gives the decoder the silence
    it expects before the first word (without it, joe's "could you" is heard as "did
    you")."""
    said = piper_speak("Could you pick up some bread and milk on your way home?")
    span = sound_span(said.samples, said.sample_rate)
    assert span is not None
    at_once = Audio(said.samples[max(0, span[0] - round(0.02 * said.sample_rate)):],
                    said.sample_rate)
    assert words(default_recognizer().transcribe(at_once))[:2] == ["could", "you"]


def test_word_errors_count_substitutions_insertions_and_deletions() -> None:
    assert words("It's 7, OK?") == ["it's", "7", "ok"]
    assert word_errors(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert word_error_rate("the cat sat", "the cat sat") == 0.0
    assert word_error_rate("the cat sat", "") == 1.0
    assert word_error_rate("", "") == 0.0


def test_garbled_needs_half_the_words_and_two_errors() -> None:
    assert not is_garbled(1, 2)  # one slip in a short sentence: recognition errs too
    assert is_garbled(2, 4)
    assert not is_garbled(4, 9)
    assert is_garbled(5, 9)


def fake(transcripts: list[str]) -> tuple[list[int], Callable[[int], np.ndarray],
                                          Callable[[Audio], str]]:
    """A renderer whose attempt n gives samples filled with n, and a recognizer that
    hears ``transcripts[n]`` in them."""
    calls: list[int] = []

    def render(attempt: int) -> np.ndarray:
        calls.append(attempt)
        return np.full(100, attempt, np.float32)

    def transcribe(audio: Audio) -> str:
        return transcripts[int(audio.samples[0])]

    return calls, render, transcribe


@pytest.mark.parametrize(("heard", "kept", "made"), [
    (["we waited outside the station for almost an hour"], 0, 1),  # clean: no re-render
    (["beware dead", "we waited outside the station for almost a now"], 1, 2),
    (["notes", "really yes i guess", "the nation"], 2, 3),  # all garbled: fewest errors
    (["we excited stays in", "really yes i guess", "columbus"], 0, 3),  # ties: earliest
])
def test_a_garbled_sentence_is_rendered_again(heard: list[str], kept: int,
                                              made: int) -> None:
    calls, render, transcribe = fake(heard)
    checked = speak_checked(SENTENCE, render, 3, 24_000, transcribe)
    assert checked.attempt == kept and checked.attempts == made
    assert calls == list(range(made))
    assert float(checked.samples[0]) == kept
    assert checked.heard == heard[kept]


def garbling_voice() -> VoiceProfile:
    """A voice far from every stock voice: this offset makes Kokoro garble the sentence
    (pocketsphinx heard "really yes i guess this infamous now")."""
    packs = stock_packs()
    delta = np.random.default_rng(3).normal(0, 1, 256).astype(np.float32) * 2.0
    # made by hand on purpose, so sealed to speak (voxclone.consent.voice_seal)
    return seal_voice(VoiceProfile(
        name="garbled", embedding=np.full(256, 1 / 16, np.float32),
        conditioning=StyleConditioning({"jf_alpha": 1.0}, delta * pack_scale(packs)),
        prosody=ProsodyStats(150.0, 100.0, 200.0, 4.0, 0.5), sources=(),
        engine=default_engine().name, effort="fast", score=0.0))


def test_check_words_renders_a_garbled_sentence_intelligibly() -> None:
    # Judged on the synthesizer's own output, which is what the check hears: the
    # watermark, embedded afterwards with a payload new at every call, moves what
    # pocketsphinx makes of a borderline rendering by a word or two either way.
    voice = garbling_voice()
    hear = default_recognizer().transcribe
    synthesizer = Synthesizer(default_engine(), stock_packs())
    plain = synthesizer.synthesize(SENTENCE, voice)
    assert word_error_rate(SENTENCE, hear(plain)) >= 0.5
    checked = synthesizer.synthesize(SENTENCE, voice, SynthesisOptions(check_words=True))
    assert word_error_rate(SENTENCE, hear(checked)) < 0.5
    # The public call checks the same way, and its audio is still watermarked.
    marked = voxclone.synthesize(SENTENCE, voice, check_words=True)
    assert marked.duration == pytest.approx(checked.duration, abs=1e-3)
    assert voxclone.detect(marked).found


def test_check_words_leaves_other_languages_alone() -> None:
    # The recognizer knows only English: Spanish is rendered once, as without the check.
    voice = garbling_voice()
    text = "Esperamos fuera de la estación casi una hora."
    plain = voxclone.synthesize(text, voice, language="es")
    checked = voxclone.synthesize(text, voice, language="es", check_words=True)
    assert checked.duration == pytest.approx(plain.duration, abs=1e-3)


def test_the_quick_search_hears_the_syllables_and_bad_settings_are_refused() -> None:
    """The one-pass search (for the speaker's tempo) hears about as many syllables as
    the default search; a setting pocketsphinx does not know is a ModelError."""
    from voxclone.asr.recognizer import QUICK_SEARCH, EnglishRecognizer
    from voxclone.errors import ModelError
    from voxclone.text.syllables import count_syllables

    from .conftest import piper_speak

    text = "She said the children would be home by seven, after the game."
    joe = piper_speak(text)
    heard = count_syllables(EnglishRecognizer(search=QUICK_SEARCH).transcribe(joe))
    assert heard == pytest.approx(count_syllables(text), rel=0.15)
    with pytest.raises(ModelError, match="no_such_setting"):
        EnglishRecognizer(search={"no_such_setting": 1})
