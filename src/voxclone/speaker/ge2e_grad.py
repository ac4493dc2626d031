"""The GE2E d-vector as a differentiable function of the waveform.

:class:`~voxclone.speaker.encoder.GE2EEncoder` computes its mel frames with librosa
(numpy); this module computes the same frames in torch - band-limited resampling to
16 kHz by FFT, 25 ms Hann windows every 10 ms, librosa's 40-band mel filters, power
(no log, as Resemblyzer feeds them) - and runs them through the same network, so the
cosine of a rendering to a target d-vector can be differentiated. It agrees with
:meth:`GE2EEncoder.embed` to about 0.999 cosine (the resamplers differ).
"""

from __future__ import annotations

import torch

from voxclone.errors import NoSpeechError
from voxclone.speaker.encoder import GE2EEncoder

_N_FFT = 400
_HOP = 160
_MELS = 40


class DifferentiableGE2E:
    """GE2E in torch from waveform to unit d-vector.

    Args:
        encoder: the loaded encoder whose network (Resemblyzer's ``VoiceEncoder``) is
            reused; its weights are not trained here.
    """

    def __init__(self, encoder: GE2EEncoder) -> None:
        import librosa

        self._model = encoder._model
        self.sample_rate = encoder.sample_rate
        self._mel = torch.from_numpy(librosa.filters.mel(
            sr=self.sample_rate, n_fft=_N_FFT, n_mels=_MELS)).float()
        self._window = torch.hann_window(_N_FFT, periodic=True)

    def embed(self, audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """d-vector of a mono waveform (float32 ``(samples,)`` at ``sample_rate``):
        float32 ``(256,)``, unit norm, differentiable in ``audio``.

        Raises:
            NoSpeechError: under 0.5 s of audio.
        """
        n = int(audio.shape[0])
        length = round(n * self.sample_rate / sample_rate)
        if length < self.sample_rate // 2:
            raise NoSpeechError("under 0.5 s of audio: too short to embed a speaker")
        wav = audio
        if sample_rate != self.sample_rate:
            spectrum = torch.fft.rfft(audio)
            kept = min(spectrum.shape[0], length // 2 + 1)
            wav = torch.fft.irfft(spectrum[:kept], n=length) * (length / n)
        wav_slices, mel_slices = self._model.compute_partial_slices(length, 1.3, 0.75)
        if wav_slices[-1].stop >= length:
            wav = torch.nn.functional.pad(wav, (0, wav_slices[-1].stop - length))
        frames = torch.stft(wav, _N_FFT, _HOP, _N_FFT, self._window, center=True,
                            pad_mode="constant", return_complex=True)
        mel = (self._mel @ frames.abs() ** 2).T  # (frames, 40)
        partials = self._model(torch.stack([mel[s] for s in mel_slices]))
        mean = partials.mean(dim=0)
        return mean / mean.norm()
