"""Speaking other languages: normalisation, phonemes, detection, complete rendering
(real Kokoro model and G2Ps), and the language option at every front door."""

from __future__ import annotations

import contextlib
import io
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import voxclone
from voxclone.audio import load_audio
from voxclone.batch.runner import request_digest
from voxclone.batch.script import read_script
from voxclone.cli import main
from voxclone.consent.voice_seal import seal_voice
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.errors import TextError
from voxclone.pipeline import DEFAULT_SENTENCE_PAUSE_S, END_S, SynthesisOptions, Synthesizer
from voxclone.text import load_vocab, split_sentences
from voxclone.text.frontend import front_end
from voxclone.text.languages import LANGUAGES, detect_language, resolve_language

from .conftest import longest_inner_silence
from .test_profile import make_profile, save_consented

#: Three sentences per language, each with something to normalise.
TEXTS = {
    "es": "Hola, me llamo Ana y vivo en Madrid desde 2019. El 2024-03-05 pagué 12,50 € "
          "por dos libros. ¿Vienes mañana a las tres?",
    "fr": "Bonjour, je m'appelle Claire et j'habite à Lyon. Le 1er mars, j'ai payé "
          "12,50 € pour deux livres. Tu viens demain soir ?",
    "it": "Ciao, mi chiamo Marco e abito a Roma da 20 anni. Il 5 marzo ho pagato 12,50 € "
          "per due libri. Vieni domani sera?",
    "pt-br": "Olá, meu nome é João e moro em São Paulo. Em 05/03/2024 paguei R$ 12,50 "
             "por dois livros. Você vem amanhã à noite?",
    "hi": "नमस्ते, मेरा नाम राहुल है। मैं 2019 से दिल्ली में रहता हूँ। क्या आप कल शाम आएँगे?",
    "ja": "こんにちは、私の名前は田中です。2019年から東京に住んでいます。明日の夜、来ますか？",
    "zh": "你好，我叫王明。我从2019年开始住在北京。你明天晚上来吗？",
}
RATE = 24_000


@cache
def _synthesizer() -> Synthesizer:
    return Synthesizer(default_engine(), stock_packs())




# ------------------------------------------------------------------ complete rendering


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_every_sentence_is_rendered_completely(code: str) -> None:
    synth, voice = _synthesizer(), make_profile("polyglot")
    text = TEXTS[code]
    sentences = split_sentences(front_end(code).normalize(text))
    assert len(sentences) == 3, sentences
    chunks = list(synth.chunks(text, language=code))
    assert sum(chunk.sentence_end for chunk in chunks) == 3  # no sentence skipped

    whole = synth.synthesize(text, voice, SynthesisOptions(language=code))
    parts = [synth.synthesize(s, voice, SynthesisOptions(language=code)) for s in sentences]
    # Each sentence said on its own takes about as long as its share of the whole, so
    # none was dropped or cut short inside the whole.
    # (each part alone ends with END_S of silence; inside the whole, the pause)
    expected = sum(p.duration for p in parts) + 2 * (DEFAULT_SENTENCE_PAUSE_S - END_S)
    assert abs(whole.duration - expected) < 0.1 * expected
    phonemes = sum(len(chunk.ids) for chunk in chunks)
    assert phonemes / 25 < whole.duration < phonemes / 6  # a plausible speaking rate
    assert 0.8 * len(text) / 25 < whole.duration  # every part of the text was read
    # no gap inside a sentence
    assert all(longest_inner_silence(part, 0.02, -40.0) < 1.0 for part in parts)
    # Between sentences: the pause (the model's own silences trimmed).
    assert longest_inner_silence(whole, 0.02, -40.0) < DEFAULT_SENTENCE_PAUSE_S + 0.1
    assert np.sqrt(np.mean(whole.samples**2)) > 0.01


def test_detected_language_renders_like_the_explicit_one() -> None:
    synth = _synthesizer()
    for code in ("hi", "ja", "zh"):
        assert synth.plan(TEXTS[code]) == synth.plan(TEXTS[code], language=code)


def test_english_is_unchanged_by_the_language_option() -> None:
    synth = _synthesizer()
    text = "Dr. Smith paid $3.50 for 2 coffees at 10:30 am on the 3rd of May. It rained."
    assert synth.plan(text) == synth.plan(text, language="en-us") == synth.plan(text, "en")
    assert synth.plan(text, language="en-gb") != synth.plan(text)


# ------------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(("code", "text", "spoken"), [
    ("es", "El 2024-03-05 pagué 12,50 € (un 15%).",
     "El cinco de marzo de dos mil veinticuatro pagué doce euros con cincuenta céntimos "
     "(un quince por ciento)."),
    ("es", "La 3ª vez, 1.234 libros, 3.5 kilos y -5 grados.",
     "La tercera vez, mil doscientos treinta y cuatro libros, tres coma cinco kilos y "
     "menos cinco grados."),
    ("fr", "Le 2024-03-01, c'est le 1er et la 2e fois : 12,50 €, 15 %.",
     "Le premier mars deux mille vingt-quatre, c'est le premier et la deuxième fois: "
     "douze euros et cinquante centimes, quinze pour cent."),
    ("it", "Il 2024-03-01 ho pagato €12,50, il 15% in più; 3,14.",
     "Il primo marzo duemilaventiquattro ho pagato dodici euro e cinquanta centesimi, il "
     "quindici per cento in più; tre virgola quattordici."),
    ("pt-br", "Em 05/03/2024 paguei R$ 12,50 por 1.234 livros; a 3ª vez.",
     "Em cinco de março de dois mil e vinte e quatro paguei doze reais e cinquenta "
     "centavos por mil duzentos e trinta e quatro livros; a terceira vez."),
    ("hi", "मैंने 2024-03-05 को ₹1,200 दिए, यानी 3.5% ज़्यादा।",
     "मैंने 5 मार्च 2024 को 1200 रुपये दिए, यानी 3 दशमलव 5 प्रतिशत ज़्यादा."),
    ("ja", "2024-03-05に¥1,200を払いました。3.5%上がりました。",
     "二千二十四年三月五日に千二百円を払いました。三点五パーセント上がりました。"),
    ("zh", "2024-03-05我付了¥1,200，涨了3.5%。", "2024年3月5日我付了1200元，涨了3.5%。"),
])
def test_numbers_dates_percent_and_money_are_spoken_words(code: str, text: str,
                                                          spoken: str) -> None:
    assert front_end(code).normalize(text) == spoken


def test_g2ps_read_the_numbers_they_are_left() -> None:
    # Japanese dates need kanji numerals to be read right: "3月" is "san tsuki" otherwise.
    japanese = front_end("ja")
    for digits, reading in (("3月5日", "saŋɡaʦɨ iʦɨka"), ("20歳", "hataʨi")):
        assert japanese.phonemize(japanese.normalize(digits)) == reading
    # Hindi and Mandarin keep digits for their phonemizers: they must say them.
    for code, with_digits, with_words in (("zh", "3个", "三个"), ("zh", "2024年", "二零二四年")):
        front = front_end(code)
        assert front.phonemize(front.normalize(with_digits)) == front.phonemize(with_words)
    hindi = front_end("hi")
    people = hindi.phonemize("लोग")
    twenty_five, twenty_six = (hindi.phonemize(hindi.normalize(f"{n} लोग")) for n in (25, 26))
    assert twenty_five.endswith(people) and len(twenty_five) > len(people) + 4
    assert twenty_five != twenty_six


# --------------------------------------------------------------------------- phonemes


def test_phonemes_use_only_kokoro_symbols_and_its_glyphs_for_tied_sounds() -> None:
    vocab = load_vocab()
    for code, text in TEXTS.items():
        front = front_end(code)
        phonemes = front.phonemize(front.normalize(text))
        assert set(phonemes) <= set(vocab), code
    assert "ʧ" in front_end("es").phonemize("mucho")  # espeak's t^ʃ as one glyph
    assert "ʦ" in front_end("it").phonemize("pizza")
    assert "ʤ" in front_end("pt-br").phonemize("dia")
    assert set("→↗↓↘") & set(front_end("zh").phonemize("你好"))  # Mandarin tones
    assert "ɾ" in front_end("es").phonemize("pero")  # not mapped onto English ɹ
    with pytest.raises(TextError, match="nothing to pronounce"):
        front_end("ja").phonemize("？")


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(("text", "code"), [
    ("नमस्ते, आप कैसे हैं?", "hi"),
    ("今日はいい天気ですね。", "ja"),
    ("カタカナだけ", "ja"),
    ("今天天气很好。", "zh"),
    ("這是繁體中文。", "zh"),
    ("The weather is nice today.", "en-us"),
    ("El tiempo es bueno hoy.", "en-us"),  # Latin script: not guessed, English
    ("I said 你好 to them in the morning and left.", "en-us"),  # mostly Latin
    ("12345 !?", "en-us"),
])
def test_detection_trusts_the_script_only(text: str, code: str) -> None:
    assert detect_language(text) == code


# ------------------------------------------------------------------------ bad language


def test_unknown_language_is_refused_naming_the_valid_codes() -> None:
    assert resolve_language("PT_br").code == "pt-br" and resolve_language("en").code == "en-us"
    for call in (lambda: resolve_language("klingon"),
                 lambda: SynthesisOptions(language="xx"),
                 lambda: _synthesizer().plan("Hola.", language="es-mx")):
        with pytest.raises(TextError) as caught:
            call()
        assert all(code in str(caught.value) for code in LANGUAGES)
    with pytest.raises(TextError, match="pt-br"):
        voxclone.synthesize("Hola.", seal_voice(make_profile("x")), language="spanish-ish")


# -------------------------------------------------------------------------- front doors


def test_api_cli_and_batch_take_a_language(tmp_path: Path) -> None:
    save_consented(make_profile("ada"))
    spanish = voxclone.synthesize("Hola, ¿qué tal? Muy bien.", "ada", language="es")
    assert voxclone.detect(spanish).found and spanish.duration > 1.0
    streamed = list(voxclone.synthesize_stream("你好。再见。", "ada", language="zh"))
    assert len(streamed) == 2

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["languages", "--json"]) == 0
    assert [row["code"] for row in json.loads(out.getvalue())] == list(LANGUAGES)
    wav = tmp_path / "hola.wav"
    assert main(["-q", "say", "ada", "Buenos días.", "-o", str(wav), "--language", "es"]) == 0
    assert load_audio(wav).duration > 0.5
    with contextlib.redirect_stderr(err):
        assert main(["say", "ada", "Hola.", "-o", str(wav), "--language", "xx"]) == 2
    assert "unknown language 'xx'" in err.getvalue() and "pt-br" in err.getvalue()

    script = tmp_path / "lines.csv"
    script.write_text("voice,text,language\nada,Bonjour.,fr\nada,Hello.,\nada,Ciao.,xx\n",
                      encoding="utf-8")
    french, english, bad = read_script(script)
    assert (french.language, french.problem) == ("fr", None)
    assert (english.language, english.problem) == (None, None)
    assert bad.problem is not None and "unknown language" in bad.problem
    # Lines without a language keep the request digest older manifests recorded.
    plain = tmp_path / "plain.csv"
    plain.write_text("voice,text\nada,Hello.\nada,Bonjour.\n", encoding="utf-8")
    old_english, old_french = read_script(plain)
    assert request_digest("v", english, "wav") == request_digest("v", old_english, "wav")
    assert request_digest("v", french, "wav") != request_digest("v", old_french, "wav")
