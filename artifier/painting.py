"""What a painting call returns: the image, how it was made, where each piece came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image

from core.files import refuse_overwrite
from core.images import save_png
from transfer.provenance import blend_map, provenance_map, side_by_side
from transfer.triptych import triptych as make_triptych


@dataclass
class Painting:
    """A finished painting. `settings` is what its PNG's `artifier` text chunk says;
    `boxes` gives, per result block, the painting box (x0, y0, x1, y1 in 0..1) it was
    laid from (None at strength 0, where nothing was painted). A blend's other paintings
    are `others`, and `painting_of` says per result block which one it came from (0 is
    `painting`)."""

    image: Image.Image
    photo: Image.Image
    painting: Image.Image
    painting_name: str
    settings: dict[str, Any]
    boxes: Optional[np.ndarray]
    # The files it was made from, so that saving never writes over one of them.
    sources: dict[str, Optional[Path]]
    others: list[Image.Image] = field(default_factory=list)
    painting_of: Optional[np.ndarray] = None

    def triptych(self) -> Image.Image:
        """Photo | painting | result at one height, captioned."""
        paintings = side_by_side([self.painting, *self.others])
        return make_triptych(self.photo, paintings, self.image,
                             ("photo", self.painting_name, "Artifier"))

    def provenance(self) -> Optional[Image.Image]:
        """The result beside the painting, tinted so that a colour on the result marks
        where in the painting it came from (for a blend, which painting); None when
        nothing was painted."""
        if self.boxes is None:
            return None
        if self.painting_of is not None:
            return blend_map(self.image, [self.painting, *self.others], self.painting_of)
        return provenance_map(self.image, self.painting, self.boxes)

    def save(self, path: str | Path, triptych: bool = False) -> Path:
        """Write the PNG the command line writes, settings in its text chunk.

        >>> painting.save("out/cat.png")  # doctest: +SKIP
        """
        path = Path(path)
        refuse_overwrite({"output": path}, self.sources)
        image = self.triptych() if triptych else self.image
        return save_png(image, path, {"artifier": self.settings})

    def _repr_png_(self) -> bytes:
        """Shown as the picture in a notebook."""
        import io

        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()
