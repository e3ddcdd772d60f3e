"""Course media files: what an uploaded video is (its container and its length, read from the file with
PyAV/FFmpeg), where it is kept, and the demo's lecture video.

The length of a video decides when it is complete, so it comes from the media itself; a player's
``length`` extension is never read. Only mp4 and webm are taken: what every browser plays natively.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from trainquant.errors import Invalid

KINDS = {"mp4": "video/mp4", "webm": "video/webm"}
# FFmpeg's names of the containers each kind may be (mp4 is read by the "mov,mp4,..." demuxer).
_FORMATS = {"mp4": ("mov", "mp4"), "webm": ("matroska", "webm")}


class NotAVideo(Invalid):
    title = "Not a course video"
    type_slug = "media-not-video"


@dataclass(frozen=True)
class Probe:
    kind: str  # mp4 | webm
    media_type: str
    length_s: float


def probe(path: Path) -> Probe:
    """The container and length of ``path``, or NotAVideo (422) saying why."""
    try:
        with av.open(str(path)) as container:
            names = set(container.format.name.split(","))
            if not container.streams.video:
                raise NotAVideo("the file has no video stream", code="media-no-video")
            duration = container.duration / 1_000_000 if container.duration else None
            if duration is None:
                stream = container.streams.video[0]
                if stream.duration is not None and stream.time_base is not None:
                    duration = float(stream.duration * stream.time_base)
    except av.FFmpegError:
        raise NotAVideo("the file is not a video FFmpeg can read", code="media-unreadable") from None
    kind = next((k for k, formats in _FORMATS.items() if names & set(formats)), None)
    if kind is None:
        raise NotAVideo(f"only mp4 and webm videos are taken, not {', '.join(sorted(names))}", code="media-kind")
    if not duration or duration <= 0:
        raise NotAVideo("the video's length cannot be read from the file", code="media-no-length")
    return Probe(kind, KINDS[kind], round(duration, 3))


def media_folder(instance: Path) -> Path:
    folder = instance / "media"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def new_name(kind: str) -> str:
    return f"{uuid.uuid4().hex}.{kind}"


def encode_demo_video(path: Path, *, seconds: int, fps: int = 5, width: int = 320, height: int = 180) -> None:
    """A plain lecture stand-in (a bar sweeping across, the second written as a block count) in VP8
    webm: the demo's course media, made locally because nothing may be downloaded."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 100_000
        for i in range(seconds * fps):
            frame = np.full((height, width, 3), (24, 64, 112), dtype=np.uint8)
            x = int(i * (width - 16) / max(1, seconds * fps - 1))
            frame[height // 3: 2 * height // 3, x: x + 16] = (250, 200, 40)
            second = i // fps
            for block in range(second % 10 + 1):
                frame[10:22, 10 + block * 14: 20 + block * 14] = (255, 255, 255)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
