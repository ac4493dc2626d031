"""The :class:`Audio` value type shared by every voxclone stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soxr

__all__ = ["RATE_BOUNDS", "Audio"]

#: Sample rates a recording may have (Hz): below, it cannot hold speech; above, the rate
#: is mislabelled or made up (a 1 Hz "rate" made an 8 s clip 35 hours, and a 655 kHz
#: FLAC of silence decoded a 9 MB upload into 19 GB). Files declaring another rate are
#: refused from their header, before anything is decoded.
RATE_BOUNDS: tuple[int, int] = (4_000, 384_000)


@dataclass(frozen=True, eq=False, repr=False)
class Audio:
    """A mono clip: float32 samples at a fixed sample rate.

    Attributes:
        samples: 1-D ``float32`` array of shape ``(n,)``, nominally in ``[-1, 1]``.
            Other floating dtypes (float64...) are converted (copied) to ``float32``;
            integer PCM is refused (scale it first); a non-contiguous array is made
            contiguous. The array is not copied when it is already 1-D contiguous
            ``float32``, so do not modify it afterwards.
        sample_rate: samples per second, a positive ``int``.

    Equality and hashing are by identity (comparing sample arrays element-wise is
    rarely what a caller means); compare ``samples`` with :func:`numpy.array_equal`.

    Raises:
        ValueError: ``samples`` is not 1-D or not a floating-point array, or
            ``sample_rate`` is not a positive integer (programming errors, not user
            errors).
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim != 1:
            raise ValueError(
                f"Audio.samples must be 1-D (mono), got shape {samples.shape}; "
                "downmix multi-channel audio first"
            )
        if samples.dtype.kind in "iu":
            raise ValueError(
                f"Audio.samples must be floating point in [-1, 1], got integer dtype "
                f"{samples.dtype}; scale PCM first (e.g. int16 / 32768)"
            )
        if samples.dtype.kind != "f":
            raise ValueError(f"Audio.samples must be real floats, got dtype {samples.dtype}")
        if samples.dtype != np.float32 or not samples.flags.c_contiguous:
            samples = np.ascontiguousarray(samples, dtype=np.float32)
        object.__setattr__(self, "samples", samples)

        rate = self.sample_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
            raise ValueError(f"Audio.sample_rate must be an int, got {rate!r}")
        if rate <= 0:
            raise ValueError(f"Audio.sample_rate must be positive, got {rate}")
        object.__setattr__(self, "sample_rate", int(rate))

    @property
    def duration(self) -> float:
        """Length in seconds (``len(samples) / sample_rate``)."""
        return float(self.samples.shape[0]) / self.sample_rate

    def __len__(self) -> int:
        """Number of samples."""
        return int(self.samples.shape[0])

    def __repr__(self) -> str:
        return (
            f"Audio(duration={self.duration:.3f}s, sample_rate={self.sample_rate}, "
            f"samples={len(self)})"
        )

    def resample(self, sample_rate: int) -> Audio:
        """Return this clip at ``sample_rate`` Hz (soxr, "HQ" quality).

        Returns ``self`` when the rate is unchanged. The output is 1-D ``float32``;
        its length is ``round(len(self) * sample_rate / self.sample_rate)``.

        Raises:
            ValueError: ``sample_rate`` is not a positive integer.
        """
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
            raise ValueError(f"sample_rate must be an int, got {sample_rate!r}")
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        sample_rate = int(sample_rate)
        if sample_rate == self.sample_rate:
            return self
        if len(self) == 0:
            return Audio(np.zeros(0, dtype=np.float32), sample_rate)

        out = soxr.resample(self.samples, self.sample_rate, sample_rate, quality="HQ")
        return Audio(np.asarray(out, dtype=np.float32), sample_rate)
