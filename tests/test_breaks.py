"""``<break>`` tags in the text: a script's pauses (dubbing, games, film) come out as
written, at the start, between sentences and words, and at the end, whole and
streamed; a tag that asks for something impossible is refused naming it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import voxclone
from voxclone.audio import Audio
from voxclone.engines.kokoro import stock_packs
from voxclone.errors import TextError
from voxclone.pipeline import END_S, LEAD_S, SynthesisOptions, Synthesizer
from voxclone.text.breaks import MAX_BREAK_S, Passage, sentences_with_breaks, split_breaks

from .conftest import longest_inner_silence
from .test_profile import make_profile
from .test_speed import CountingEngine, _silences


def test_tags_cut_the_text_into_passages_with_their_pauses() -> None:
    assert split_breaks("No tags here.") == (0.0, [Passage("No tags here.", None)])
    assert split_breaks('Wait <break time="1.5s"/> for it.') == (
        0.0, [Passage("Wait ", 1.5), Passage(" for it.", None)])
    # milliseconds, single quotes, upper case, a space before the slash, no slash
    assert split_breaks("a<BREAK time='700ms' />b<break time=.25s>c")[1] == [
        Passage("a", 0.7), Passage("b", 0.25), Passage("c", None)]
    # strengths; a bare tag is "medium"; "none" cuts nothing but keeps the words apart
    assert split_breaks("a<break/>b<break strength='x-strong'/>c")[1] == [
        Passage("a", 0.75), Passage("b", 1.25), Passage("c", None)]
    assert split_breaks('one<break strength="none"/>two') == (
        0.0, [Passage("one two", None)])
    # time wins over strength; breaks in a row add up; leading breaks open the text
    assert split_breaks('<break time="1s"/><break/>Go <break time="2s" strength="weak"/>'
                        '<break time="500ms"/> now<break time="3s"/>') == (
        1.75, [Passage("Go ", 2.5), Passage(" now", 3.0), Passage("", None)])
    assert split_breaks(f'a<break time="{MAX_BREAK_S:g}s"/>b')[1][0].pause_after == MAX_BREAK_S


@pytest.mark.parametrize(("tag", "says"), [
    ('<break time="soon"/>', "time must be seconds or milliseconds"),
    ('<break time="2 minutes"/>', "time must be seconds or milliseconds"),
    ('<break time="-1s"/>', "time must be seconds or milliseconds"),
    ('<break time="12s"/>', "at most 3 s of silence at one point (got 12 s)"),
    ('<break time="3500ms"/>', "at most 3 s of silence at one point (got 3.5 s)"),
    ('<break strength="loud"/>', "strength must be one of none, x-weak"),
])
def test_an_impossible_break_is_refused_naming_the_tag(tag: str, says: str) -> None:
    with pytest.raises(TextError, match="^" + tag.replace("/", ".")[:10]) as caught:
        split_breaks(f"Hello {tag} there.")
    assert says in str(caught.value)


def test_breaks_that_add_up_past_the_limit_are_refused() -> None:
    """However they are written, at most 3 s of silence at one point: longer pauses
    would be read as two marks by the watermark's detector."""
    for text in ('A <break time="2s"/><break time="1.5s"/> B.',
                 '<break time="2s"/><break time="2s"/>A.',
                 'A. <break time="2s"/> 🙂 <break time="2s"/> B.'):
        with pytest.raises(TextError, match="at most 3 s of silence at one point"):
            sentences_with_breaks(str.strip, text)


def test_sentences_carry_their_breaks() -> None:
    lead, sentences, pauses = sentences_with_breaks(
        str.strip, '<break time="1s"/>One. Two <break time="2s"/> 🙂 <break/> Three.')
    assert lead == 1.0
    assert sentences == ["One.", "Two", "Three."]
    # a passage with no words passes its break on; the last sentence has none written
    assert pauses == [None, 2.75, None]


def test_the_rendered_silences_are_the_breaks() -> None:
    """With a stand-in engine (a tone per phoneme, no silence of its own), every
    silence is exact: the lead-in, a break between sentences and between words, a
    sentence pause where none is written, and a break past the end's silence."""
    synth = Synthesizer(CountingEngine(), stock_packs())
    voice = replace(make_profile(), pause=0.7)
    text = ('<break time="1.2s"/>The door opened. <break time="2s"/> Nobody came in, '
            '<break time="300ms"/> and the wind blew. Then it closed.<break time="1.5s"/>')
    pieces = [p.samples for p in synth.stream(text, voice)]
    assert np.flatnonzero(pieces[0])[0] == round((LEAD_S + 1.2) * 24_000)
    assert _silences(pieces) == pytest.approx([2.0, 0.3, 0.7, 1.5], abs=1e-3)
    # none at the end: the end's own silence; the speed does not stretch a break
    pieces = [p.samples for p in synth.stream(text.replace('<break time="1.5s"/>', ""),
                                              voice, SynthesisOptions(speed=2.0))]
    assert _silences(pieces) == pytest.approx([2.0, 0.3, 0.35, END_S], abs=1e-3)


def test_a_break_between_blocks_of_arriving_text_replaces_the_sentence_pause() -> None:
    """Text arriving in pieces is cut into blocks at sentence ends, so a break after a
    full stop opens the next block; the pause already sent (the voice's 0.7 s) counts
    toward it, and a shorter break cannot take it back."""
    synth = Synthesizer(CountingEngine(), stock_packs())
    voice = replace(make_profile(), pause=0.7)
    for asked, heard in ((2.0, 2.0), (0.3, 0.7)):
        blocks = ["The door opened.", f'<break time="{asked}s"/> Nobody came in.']
        pieces = [p.samples for p in synth.stream_arriving(iter(blocks), voice)]
        assert _silences(pieces)[0] == pytest.approx(heard, abs=1e-3)


def test_a_real_voice_pauses_where_the_script_says(joe_reference: Audio) -> None:
    voice = voxclone.enroll("script", joe_reference, effort="stock", save=False,
                            i_am_the_speaker=True)
    text = 'Nobody spoke for a while. <break time="2.5s"/> Then we all went home.'
    whole = voxclone.synthesize(text, voice)
    assert longest_inner_silence(whole) == pytest.approx(2.5, abs=0.05)
    # one synthesis, one mark across the break (as across a 3 s sentence pause)
    marks = voxclone.detect_all(whole)
    assert len(marks) == 1 and marks[0].end_s > whole.duration - 2.0
    plain = voxclone.synthesize(text.replace('<break time="2.5s"/>', ""), voice)
    assert longest_inner_silence(plain) < 1.0
    assert whole.duration - plain.duration == pytest.approx(2.5 - longest_inner_silence(plain),
                                                            abs=0.05)
    streamed = list(voxclone.synthesize_stream(text, voice))
    joined = Audio(np.concatenate([c.samples for c in streamed]), whole.sample_rate)
    assert longest_inner_silence(joined) == pytest.approx(2.5, abs=0.05)
    with pytest.raises(TextError, match="at most 3 s"):
        voxclone.synthesize('Wait. <break time="60s"/> Go.', voice)
