"""Tests of voxclone.text: normalisation, sentence/phoneme splitting, phonemization."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from voxclone.errors import TextError
from voxclone.text import (
    EspeakPhonemizer,
    load_vocab,
    normalize_text,
    phonemize,
    split_head,
    split_phonemes,
    split_sentences,
    tokenize,
)
from voxclone.text.chunk import blocks_as_they_arrive

# ---------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234 people", "one thousand two hundred thirty-four people"),
        ("pi is 3.14", "pi is three point one four"),
        ("It was -5 outside", "It was minus five outside"),
        ("the 1st, 2nd and 23rd", "the first, second and twenty-third"),
        ("In 1999.", "In nineteen ninety-nine."),
        ("In 2023 and 2005", "In twenty twenty-three and two thousand five"),
        ("$3.50", "three dollars and fifty cents"),
        ("$1 or $0.99", "one dollar or ninety-nine cents"),
        ("£5 and €20", "five pounds and twenty euros"),
        ("$5 million", "five million dollars"),
        ("50% off", "fifty percent off"),
        ("at 3:30", "at three thirty"),
        ("at 10:05 pm", "at ten oh five pee em"),
        ("pages 10-20", "pages ten to twenty"),
        ("007", "zero zero seven"),
    ],
)
def test_normalize_numbers(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith and Mrs. Jones", "Mister Smith and Missus Jones"),
        ("Ms. Doe met Dr. Who and Prof. X", "Miz Doe met Doctor Who and Professor X"),
        ("John Smith Jr. came", "John Smith Junior came"),
        ("cats vs. dogs", "cats versus dogs"),
        ("fruit, e.g. apples, i.e. food", "fruit, for example apples, that is food"),
        ("No. 5 is here", "number five is here"),
        ("We visited St. Louis", "We visited Saint Louis"),
        ("apples, pears, etc.", "apples, pears, et cetera."),
        ("apples, etc. Then more", "apples, et cetera. Then more"),
        ("salt & pepper", "salt and pepper"),
        ("2 + 2 = 4", "two plus two equals four"),
        ("me @ home", "me at home"),
    ],
)
def test_normalize_abbreviations_and_symbols(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # QA finding 10: money with a glued scale, cents
        ("$2.5bn", "two point five billion dollars"),
        ("£2.5bn.", "two point five billion pounds."),
        ("$40k salary", "forty thousand dollars salary"),
        ("$5M", "five million dollars"),
        ("5\u00a2", "five cents"),
        ("1\u00a2 and 99\u00a2", "one cent and ninety-nine cents"),
        # dates: ISO, US month/day/year (day first only when the month would be > 12)
        ("2024-03-05", "March fifth, twenty twenty-four"),
        ("On 2024-03-05, we met.", "On March fifth, twenty twenty-four, we met."),
        ("2005-01-09", "January ninth, two thousand five"),
        ("2024-03-05T10:30:00", "March fifth, twenty twenty-four at ten thirty"),
        ("05/03/2024", "May third, twenty twenty-four"),
        ("05-03-2024", "May third, twenty twenty-four"),
        ("5/3/05", "May third, oh five"),
        ("25/12/2024", "December twenty-fifth, twenty twenty-four"),
        # month abbreviations and "Month day"
        ("Jan. 1st", "January first"),
        ("Sept. 2024", "September twenty twenty-four"),
        ("Dec 25", "December twenty-fifth"),
        ("March 5, 2024", "March fifth, twenty twenty-four"),
        ("June 3:30", "June three thirty"),
        # fractions and other number/number slashes
        ("3/4", "three quarters"),
        ("1/2", "one half"),
        ("2/3 of them", "two thirds of them"),
        ("2 1/2 cups", "two and a half cups"),
        ("2\u00bd hours", "two and a half hours"),
        ("It's 24/7.", "It's twenty-four seven."),
        ("9/11", "nine eleven"),
        ("and/or", "and/or"),
        # phone numbers: digit by digit, a pause between groups
        ("+1 (555) 123-4567", "plus one, five five five, one two three, four five six seven"),
        ("(555) 123-4567", "five five five, one two three, four five six seven"),
        ("555.123.4567", "five five five, one two three, four five six seven"),
        ("+44 20 7946 0958", "plus four four, two zero, seven nine four six, zero nine five eight"),
        # times with seconds
        ("23:59:59", "twenty-three fifty-nine and fifty-nine seconds"),
        ("11:59:59 pm", "eleven fifty-nine pee em and fifty-nine seconds"),
        ("12:00:00", "twelve o'clock"),
        # SSML / HTML-like tags are dropped, comparisons are not
        ("Hello <break time='2s'/> world.", "Hello world."),
        ("<break time='2s'/>", ""),
        ("a<b and c>d", "a<b and c>d"),
    ],
)
def test_normalize_qa_readings(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_normalize_unicode_and_whitespace() -> None:
    text = "\u201cHi,\u201d she said\u2026  \u2018ok\u2019 \u2013 fine --  really \n\n\n next"
    assert normalize_text(text) == "\"Hi,\" she said\u2026 'ok' \u2014 fine \u2014 really\n\nnext"


def test_normalize_keeps_sentence_punctuation() -> None:
    assert normalize_text("Yes! No? Maybe; so: well\u2026 fine.") == (
        "Yes! No? Maybe; so: well\u2026 fine."
    )


def test_normalize_leaves_no_digits() -> None:
    text = "Call 555-123-4567 at 5pm on 2024-01-15, v1.2.3, MP3s cost $1,000.05 (-3%)."
    assert not re.search(r"\d", normalize_text(text))


# ------------------------------------------------------------------ split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello! How are you? Fine.", ["Hello!", "How are you?", "Fine."]),
        (
            "Mr. Smith met Dr. Jones. They talked.",
            ["Mr. Smith met Dr. Jones.", "They talked."],
        ),
        ("Pi is 3.14 or so. Really.", ["Pi is 3.14 or so.", "Really."]),
        (
            "J. R. R. Tolkien wrote it. Then he slept.",
            ["J. R. R. Tolkien wrote it.", "Then he slept."],
        ),
        ("Fruit, e.g. apples. Nice.", ["Fruit, e.g. apples.", "Nice."]),
        ("Wait\u2026 what? I see.", ["Wait\u2026 what?", "I see."]),
        ("\u201cReally?\u201d she asked. Yes.", ["\u201cReally?\u201d she asked.", "Yes."]),
        (
            "First line\nsecond line\n\nNew paragraph.",
            ["First line", "second line", "New paragraph."],
        ),
        ("  Hello.   \n\n  ", ["Hello."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_keeps_long_unpunctuated_text_and_drops_empty() -> None:
    long = " ".join(["word"] * 400)
    assert split_sentences(long) == [long]
    assert split_sentences("") == []
    assert split_sentences(" \n\n ") == []


# ------------------------------------------------------------------- split_phonemes

_PAGE_TEXT = (
    "It was a bright cold day in April, and the clocks were striking thirteen. "
    "Winston Smith, his chin nuzzled into his breast in an effort to escape the vile "
    "wind, slipped quickly through the glass doors of Victory Mansions; though not "
    "quickly enough to prevent a swirl of gritty dust from entering along with him. "
    "The hallway smelt of boiled cabbage and old rag mats! At one end of it a coloured "
    "poster, too large for indoor display, had been tacked to the wall? It depicted "
    "simply an enormous face, more than a metre wide: the face of a man of about "
    "forty-five, with a heavy black moustache and ruggedly handsome features. "
)


@pytest.fixture(scope="module")
def page() -> str:
    """About 2,000 characters of phonemes: a page of text, three times over."""
    return phonemize(_PAGE_TEXT * 3)


@pytest.mark.parametrize("max_len", [500, 200, 80, 17, 3, 1])
def test_split_phonemes_bounds_and_lossless(page: str, max_len: int) -> None:
    pieces = split_phonemes(page, max_len)
    assert pieces
    assert all(0 < len(piece) <= max_len for piece in pieces)
    assert all(piece == piece.strip() for piece in pieces)
    assert "".join(pieces).replace(" ", "") == page.replace(" ", "")  # nothing else lost
    if max_len >= max(map(len, page.split())):  # no word had to be cut hard
        assert " ".join(pieces).split() == page.split()


def test_split_phonemes_prefers_sentence_then_clause_boundaries(page: str) -> None:
    pieces = split_phonemes(page, 200)
    assert all(piece[-1] in ".!?;:,\u2014" for piece in pieces[:-1])
    assert sum(piece[-1] in ".!?" for piece in pieces[:-1]) >= len(pieces) // 2
    assert split_phonemes("ab cd", 500) == ["ab cd"]
    assert split_phonemes("abcdefg", 3) == ["abc", "def", "g"]
    assert split_phonemes("   ") == []
    with pytest.raises(ValueError):
        split_phonemes("abc", 0)


def test_split_head_cuts_a_short_lead_in_at_a_natural_boundary() -> None:
    sentence = phonemize("Could you pick up some bread and milk on your way home tonight?")
    head, tail = split_head(sentence, 24)
    assert 0 < len(head) <= 24 and tail
    assert f"{head} {tail}".split() == sentence.split()  # lossless, words whole
    clause = phonemize("Well, if you ask me, the bread and the milk can wait until tomorrow.")
    head, _ = split_head(clause, 24)
    assert head.endswith(",")  # a clause mark is preferred to a word gap
    short = phonemize("Hello there, friend.")
    assert split_head(short, 24) == (short, "")  # too short to be worth cutting
    with pytest.raises(ValueError):
        split_head("abc", 0)


# ---------------------------------------------------------------------- phonemize


def test_phonemize_hello_world_uses_kokoro_symbols() -> None:
    phonemes = phonemize("Hello world")
    vocab = load_vocab()
    assert set(phonemes) <= set(vocab)
    assert "O" in phonemes  # the "oʊ" diphthong of "hello"
    assert "ɹ" in phonemes or "ɜ" in phonemes
    assert "^" not in phonemes


def test_phonemize_maps_espeak_ipa_to_misaki() -> None:
    phonemes = phonemize("button, bottle, judge, church, boy, house, nice, great, water.")
    assert "tᵊn" in phonemes and "ᵊl" in phonemes
    for symbol in ("ʤ", "ʧ", "Y", "W", "I", "A", "əɹ"):
        assert symbol in phonemes, symbol
    for espeak_only in ("ʔ", "ɚ", "ː", "\u0329", "d\u0361ʒ", "dʒ", "tʃ", "eɪ", "aɪ", "oʊ"):
        assert espeak_only not in phonemes, espeak_only
    assert phonemes.endswith(".") and "," in phonemes  # punctuation is kept for prosody


def test_round_trip_has_no_digits_and_tokenizes() -> None:
    text = normalize_text("I paid $3.50 on May 2nd, 1999.")
    assert not re.search(r"\d", text)
    phonemes = phonemize(text)
    assert not re.search(r"\d", phonemes)
    vocab = load_vocab()
    ids = tokenize(phonemes)
    assert ids == [vocab[char] for char in phonemes]
    assert tokenize("a\u00a7b") == [vocab["a"], vocab["b"]]  # unknown symbols dropped


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "...", "?!", "\u2014 \u2026", "<>|"])
def test_phonemize_rejects_unpronounceable_text(text: str) -> None:
    with pytest.raises(TextError):
        phonemize(text)


def test_unknown_language_raises_text_error() -> None:
    with pytest.raises(TextError, match="language"):
        EspeakPhonemizer("xx-not-a-language")


def test_phonemize_is_thread_safe() -> None:
    expected = phonemize("The quick brown fox jumps over the lazy dog.")
    results: list[str] = []

    def work() -> None:
        results.append(phonemize("The quick brown fox jumps over the lazy dog."))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 8


# ------------------------------------------------------- text that arrives bit by bit


def test_each_finished_line_or_sentence_is_a_block_as_soon_as_it_ends() -> None:
    asked: list[str] = []

    def pieces() -> Iterator[str]:
        for piece in ["Hel", "lo there.\nHow are", " you? I am", " fine.\n", "Bye"]:
            asked.append(piece)
            yield piece

    blocks = blocks_as_they_arrive(pieces())
    assert next(blocks) == "Hello there."
    assert asked[-1] == "lo there.\nHow are"  # yielded before the rest was read
    # A sentence is finished once the next one has begun, before its line ends.
    assert next(blocks) == "How are you?"
    assert asked[-1] == " you? I am"
    assert list(blocks) == ["I am fine.", "Bye"]  # the rest, at the end


def test_a_long_line_is_spoken_by_its_finished_sentences() -> None:
    first = "A long line from a language model, written word by word as it thinks."
    second = "It keeps going"
    pieces = [w + " " for w in f"{first} {second}".split()]
    assert list(blocks_as_they_arrive(pieces)) == [first, second]
    # No sentence end in max_chars: cut there rather than held for ever.
    assert [len(b) for b in blocks_as_they_arrive(["x" * 50] * 5, max_chars=120)] == \
        [120, 120, 10]
    assert list(blocks_as_they_arrive(["one two three four"], max_chars=10)) == \
        ["one two", "three", "four"]  # at a space where there is one


def test_a_huge_piece_is_cut_into_blocks_in_linear_time() -> None:
    sentence = "A sentence of moderate length, with a few words in it. "
    huge = sentence * 100_000  # 5.5 MB in one piece
    blocks = list(blocks_as_they_arrive([huge]))
    assert max(map(len, blocks)) <= 2000
    assert " ".join(blocks) == huge.strip()
    line = sentence * 100 + "\n"  # a finished line longer than a block
    assert all(b.endswith(".") for b in blocks_as_they_arrive([line]))
    # Nothing to say: no blocks; "3." waits for what follows ("3.14").
    assert list(blocks_as_they_arrive(["\n\n", "  ", ""])) == []
    assert list(blocks_as_they_arrive(["It is 3.", "14 today.\n"])) == ["It is 3.14 today."]
