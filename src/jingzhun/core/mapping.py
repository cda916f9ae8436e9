"""Column mappings: completing a kept mapping, and mapping files a user edits.

This module imports nothing of ``jingzhun.core.importing`` at run time, so that the
import framework can call it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from jingzhun.core.importing import Importer


def fold_header(text: str) -> str:
    """Return a header as compared with our labels: no spaces, no required marks, case-folded.

    The same folding as the exact pass of ``importing.propose_mapping``.
    """
    return (
        "".join(str(text).split())
        .replace("*", "")
        .replace("（必填）", "")
        .replace("(必填)", "")
        .casefold()
    )


def extend_mapping(kept: dict[str, int], headers: list[str], importer: Importer) -> dict[str, int]:
    """Return a kept mapping {field: column index} with the columns added to a file since.

    A field the kept mapping does not name is mapped to a column whose header is exactly one
    of the field's labels (after folding), if no other field uses that column. Fields the kept
    mapping names keep their columns; nothing is guessed by similarity.
    """
    result = dict(kept)
    used = set(kept.values())
    folded = [fold_header(h) for h in headers]
    for f in importer.fields:
        if f.name in result:
            continue
        labels = {fold_header(x) for x in f.labels()}
        for i, header in enumerate(folded):
            if header and i not in used and header in labels:
                result[f.name] = i
                used.add(i)
                break
    return result


class MappingFileError(ValueError):
    """A mapping file that cannot be read, or that is not {field: header text}."""


def read_mapping_file(path: Path) -> dict[str, str]:
    """Read a mapping {field: header text} from a YAML or JSON file.

    A field given an empty value (or null) is left unmapped.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingFileError(
            _("Cannot read the mapping file %(file)s: %(error)s") % {"file": path, "error": exc}
        ) from exc
    try:
        if Path(path).suffix.lower() == ".json":
            data: Any = json.loads(text)
        else:
            data = yaml.safe_load(text)  # YAML also reads JSON
    except (ValueError, yaml.YAMLError) as exc:
        raise MappingFileError(
            _("The mapping file %(file)s is not valid YAML or JSON: %(error)s")
            % {"file": path, "error": exc}
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, (str, int))) for k, v in data.items()
    ):
        raise MappingFileError(
            _(
                "The mapping file %(file)s must map each field to a column header, like "
                '"roll_number: 学籍号".'
            )
            % {"file": path}
        )
    return {k: str(v).strip() for k, v in data.items() if v is not None and str(v).strip()}


def write_mapping_file(
    path: Path, mapping: dict[str, str], *, comments: list[str] | None = None
) -> Path:
    """Write a mapping {field: header text} to a YAML file (JSON if the name ends in .json)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(mapping, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path
    body = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False, default_flow_style=False)
    head = "".join(f"# {line}\n" for line in comments or [])
    path.write_text(head + (body if mapping else "{}\n"), encoding="utf-8")
    return path
