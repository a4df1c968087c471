"""One change of a stored response, as the responses table's stream tells it: the response before and after."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.responses import Response


@dataclass(frozen=True)
class ResponseChange:
    sequence: str  # the stream record's sequence number: a response's changes are ordered by it
    event_name: str  # INSERT, MODIFY or REMOVE
    old: Response | None
    new: Response | None

    @property
    def survey_key(self) -> str:
        image = self.new or self.old
        return image.survey_key if image else ""
