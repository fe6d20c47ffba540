"""The bytes of the speed test: an incompressible download, and an upload read within a
bound and timed by the service."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from werkzeug.exceptions import RequestEntityTooLarge

from contracts.runtime.refusals import Refusal

#: a download or an upload is between these sizes, so one request cannot tie up the service
MIN_BYTES = 1024
MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024


class UploadTooLarge(Refusal):
    """More than ``limit`` bytes were sent."""

    code = "upload_too_large"


def random_bytes(total: int) -> Iterator[bytes]:
    """``total`` fresh random bytes, a chunk at a time. Fresh, not a cached block repeated:
    a compressor with a long window (brotli, zstd) on the way would shrink a repetition and
    the browser would measure the compressor, not the line."""
    left = total
    while left > 0:
        size = min(CHUNK, left)
        yield os.urandom(size)
        left -= size


@dataclass(frozen=True)
class Upload:
    received: int
    seconds: float

    @property
    def bits_per_second(self) -> int | None:
        """The speed the service saw, if it could time the body at all."""
        if self.received <= 0 or self.seconds <= 0:
            return None
        return int(self.received * 8 / self.seconds)


def read_upload(stream: IO[bytes], limit: int, timer: Callable[[], float]) -> Upload:
    """Read and drop the body, counting and timing it; ``UploadTooLarge`` past ``limit``."""
    received = 0
    started = timer()
    try:
        while chunk := stream.read(CHUNK):
            received += len(chunk)
            if received > limit:
                raise UploadTooLarge(limit=limit)
    except RequestEntityTooLarge:  # werkzeug's own bound, for a body sent without a length
        raise UploadTooLarge(limit=limit) from None
    return Upload(received, timer() - started)
