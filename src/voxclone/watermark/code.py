"""Channel code of the watermark payload: CRC-16, a tail-biting K=7 rate-1/2
convolutional code with batched soft-decision (wrap-around) Viterbi decoding.

The payload (32 bits) and its CRC-16 make 48 information bits; tail-biting needs
no flush bits, so the codeword is exactly 96 coded bits, sent as 8 symbols of 12.
The CRC makes a random decode pass with probability 2^-16, which bounds false
positives together with the number of decodes tried.
"""

from __future__ import annotations

import numpy as np

PAYLOAD_BITS_CODED = 32
CRC_BITS = 16
INFO_BITS = PAYLOAD_BITS_CODED + CRC_BITS
CONSTRAINT = 7
#: Generator polynomials (octal 133, 171): the standard K=7 code, free distance 10.
GENERATORS = (0o133, 0o171)
CODED_BITS = 2 * INFO_BITS
_STATES = 1 << (CONSTRAINT - 1)
#: Wrap-around decoding runs over this many copies of the word and keeps the middle.
_COPIES = 3


def int_to_bits(value: int, n: int) -> np.ndarray:
    """``value`` as ``n`` bits, most significant first (uint8 array)."""
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def bits_to_int(bits: np.ndarray) -> int:
    """Inverse of :func:`int_to_bits`."""
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def crc16(bits: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT (polynomial 0x1021, initial 0xFFFF) of a bit array, as 16 bits."""
    register = 0xFFFF
    for bit in bits:
        top = ((register >> 15) & 1) ^ int(bit)
        register = ((register << 1) & 0xFFFF) ^ (0x1021 if top else 0)
    return int_to_bits(register, CRC_BITS)


def _parity(x: int) -> int:
    return bin(x).count("1") & 1


def _outputs(register: int) -> list[int]:
    return [_parity(register & g) for g in GENERATORS]


def _trellis() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each next state and each of its 2 predecessors: previous state, input bit
    and the two output bits as +-1 (+1 for a 0 bit). The state holds the last 6
    inputs, newest in the top bit."""
    prev = np.zeros((_STATES, 2), dtype=np.int64)
    inp = np.zeros((_STATES, 2), dtype=np.uint8)
    signs = np.zeros((_STATES, 2, 2), dtype=np.float64)
    filled = np.zeros(_STATES, dtype=np.int64)
    for state in range(_STATES):
        for bit in (0, 1):
            register = (bit << (CONSTRAINT - 1)) | state
            nxt = register >> 1
            slot = filled[nxt]
            prev[nxt, slot] = state
            inp[nxt, slot] = bit
            signs[nxt, slot] = [1.0 - 2.0 * o for o in _outputs(register)]
            filled[nxt] += 1
    return prev, inp, signs


_PREV, _INPUT, _SIGNS = _trellis()


def encode(payload: int) -> np.ndarray:
    """The 96 coded bits (uint8) of a 32-bit payload."""
    info = int_to_bits(payload, PAYLOAD_BITS_CODED)
    return convolve(np.concatenate([info, crc16(info)]))


def convolve(bits: np.ndarray) -> np.ndarray:
    """The 96 coded bits (uint8) of 48 information bits (payload and CRC, valid or not)."""
    # tail-biting: start in the state the last K-1 bits leave behind
    state = 0
    for bit in bits[-(CONSTRAINT - 1):]:
        state = ((int(bit) << (CONSTRAINT - 1)) | state) >> 1
    coded: list[int] = []
    for bit in bits:
        register = (int(bit) << (CONSTRAINT - 1)) | state
        coded.extend(_outputs(register))
        state = register >> 1
    return np.array(coded, dtype=np.uint8)


def viterbi(soft: np.ndarray) -> np.ndarray:
    """Soft-decision decoding of a batch of received tail-biting words.

    Args:
        soft: float array ``(batch, 96)``; positive means "bit 0", magnitude = trust.

    Returns:
        uint8 array ``(batch, 48)``: the most likely information bits (payload + CRC).
    """
    batch = soft.shape[0]
    steps = INFO_BITS * _COPIES
    pairs = np.tile(soft.reshape(batch, INFO_BITS, 2), (1, _COPIES, 1))
    metric = np.zeros((batch, _STATES))  # any start state: the code is tail-biting
    choice = np.zeros((steps, batch, _STATES), dtype=bool)
    for step in range(steps):
        branch = np.einsum("bk,spk->bsp", pairs[:, step], _SIGNS)
        candidates = metric[:, _PREV] + branch  # (batch, states, 2)
        pick = candidates[..., 1] > candidates[..., 0]
        choice[step] = pick
        metric = np.where(pick, candidates[..., 1], candidates[..., 0])
        metric -= metric.max(axis=1, keepdims=True)  # keep the numbers small
    state = np.argmax(metric, axis=1)
    rows = np.arange(batch)
    bits = np.zeros((steps, batch), dtype=np.uint8)
    for step in range(steps - 1, -1, -1):
        pick = choice[step, rows, state].astype(np.int64)
        bits[step] = _INPUT[state, pick]
        state = _PREV[state, pick]
    middle = bits[INFO_BITS: 2 * INFO_BITS]
    return middle.T.copy()


def crc_ok(info: np.ndarray) -> bool:
    """Whether 48 decoded information bits carry a valid CRC."""
    return bool(np.array_equal(crc16(info[:PAYLOAD_BITS_CODED]), info[PAYLOAD_BITS_CODED:]))
