"""The duration of an audio clip, read from its own bytes (pure): what an audio cost rests on.

OpenAI publishes no token rule for audio input on Chat Completions; its Realtime API documents
user audio at one token per 100 ms, which is the assumption the counter makes (flagged). The
two input formats Chat Completions takes are read here:

- WAV: the ``fmt``/``data`` chunks, through the standard library's ``wave`` (PCM), or the
  byte rate of the ``fmt`` chunk for other encodings;
- MP3: the first MPEG audio frame's bit rate (after an ID3v2 tag), the clip taken as constant
  bit rate: a variable-bit-rate file is estimated from its first frame.
"""

from __future__ import annotations

import io
import math
import struct
import wave

# One token per 100 ms of user audio (OpenAI's Realtime API documentation).
AUDIO_TOKENS_PER_SECOND = 10

# kbit/s by bit-rate index, for MPEG-1 Layer III and MPEG-2/2.5 Layer III.
_MP3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


class AudioError(ValueError):
    """Audio bytes whose duration cannot be read."""


def audio_seconds(data: bytes, fmt: str) -> float:
    """The duration in seconds of a ``wav`` or ``mp3`` clip.

    >>> import io, wave
    >>> buf = io.BytesIO()
    >>> with wave.open(buf, "wb") as w:
    ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    ...     w.writeframes(b"\\0\\0" * 12000)
    >>> audio_seconds(buf.getvalue(), "wav")
    1.5
    """
    if fmt == "wav":
        return _wav_seconds(data)
    if fmt == "mp3":
        return _mp3_seconds(data)
    raise AudioError(f"unsupported audio format {fmt!r}")


def audio_tokens(seconds: float) -> int:
    """Tokens of a clip of `seconds` at the assumed rate, rounded up."""
    return math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)


def _wav_seconds(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data), "rb") as clip:
            return clip.getnframes() / clip.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError):
        pass
    # Not PCM (wave reads only PCM): the fmt chunk's byte rate and the data chunk's size.
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a WAV file (no RIFF/WAVE header)")
    byte_rate = size = None
    offset = 12
    while offset + 8 <= len(data):
        chunk, length = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        if chunk == b"fmt " and length >= 12:
            byte_rate = struct.unpack("<I", data[offset + 16 : offset + 20])[0]
        elif chunk == b"data":
            size = min(length, len(data) - offset - 8)
            break
        offset += 8 + length + (length & 1)
    if not byte_rate or size is None:
        raise AudioError("WAV file without a readable fmt or data chunk")
    return float(size) / float(byte_rate)


def _mp3_seconds(data: bytes) -> float:
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:  # skip an ID3v2 tag (a synchsafe size)
        size = data[6:10]
        start = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    for offset in range(start, min(len(data) - 3, start + 64 * 1024)):
        if data[offset] != 0xFF or data[offset + 1] & 0xE0 != 0xE0:
            continue
        version = (data[offset + 1] >> 3) & 0b11  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
        layer = (data[offset + 1] >> 1) & 0b11  # 1: Layer III
        index = data[offset + 2] >> 4
        if version == 1 or layer != 1 or index in (0, 15):
            continue
        kbps = _MP3_BITRATES[1 if version == 3 else 2][index]
        return (len(data) - offset) * 8 / (kbps * 1000)
    raise AudioError("no MPEG Layer III frame found")
