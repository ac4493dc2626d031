"""Speech from espeak-ng's own synthesiser, called directly (not through voxclone).

Benchmarks and tests use it as a second, third... "person" whose recordings never went
through voxclone's output path. The library and data come from ``espeakng_loader``
(the same wheel voxclone phonemizes with); the library is loaded from a private copy,
so its global state never mixes with the phonemizer's.
"""

from __future__ import annotations

import ctypes
import functools
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from voxclone.audio import Audio

#: English voices (language + variant) that sound clearly different from each other.
VOICES = ("en-us", "en-us+m3", "en-us+f2", "en+m7", "en-gb-x-rp+f4", "en-us+Alex")

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_RATE = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)
_lock = threading.Lock()


class _Espeak:
    def __init__(self) -> None:
        import espeakng_loader

        folder = Path(tempfile.mkdtemp(prefix="voxclone-espeak-"))
        copy = folder / "libespeak-ng-synth.so"
        shutil.copy(espeakng_loader.get_library_path(), copy)
        self.lib = ctypes.CDLL(str(copy))
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                          espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError("espeak-ng failed to initialise")
        self.sample_rate = int(rate)
        self.chunks: list[np.ndarray] = []

        def collect(wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int) -> int:
            if count > 0:
                self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            return 0

        self._callback = _CALLBACK(collect)  # keep a reference: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def speak(self, text: str, voice: str, words_per_minute: int) -> Audio:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        self.lib.espeak_SetParameter(_RATE, words_per_minute, 0)
        self.chunks = []
        data = text.encode()
        status = self.lib.espeak_Synth(data, ctypes.c_size_t(len(data) + 1), 0, 0, 0,
                                       _CHARS_UTF8, None, None)
        if status != 0:
            raise RuntimeError(f"espeak-ng could not speak {text[:30]!r} (status {status})")
        self.lib.espeak_Synchronize()
        pcm = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        return Audio(pcm.astype(np.float32) / 32768.0, self.sample_rate)


@functools.lru_cache(maxsize=1)
def _engine() -> _Espeak:
    return _Espeak()


def espeak_speak(text: str, voice: str = "en-us", words_per_minute: int = 150) -> Audio:
    """``text`` spoken by espeak-ng's ``voice`` (e.g. ``en-us+m3``), 22.05 kHz float32."""
    with _lock:
        return _engine().speak(text, voice, words_per_minute)
