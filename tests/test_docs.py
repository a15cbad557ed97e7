"""The reference docs cover every configuration key and every quarantine reason."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from pipeline.config import Claim, StudyConfig
from pipeline.sources import REASONS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _keys(model: type[BaseModel]) -> set[str]:
    """Documented names: sections as ``[name]``, keys as ```name```."""
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= {f"[{name}]"} | _keys(annotation)
        else:
            keys.add(f"`{name}`")
    return keys


def test_config_reference_names_every_key():
    text = (DOCS / "CONFIG.md").read_text(encoding="utf-8")
    internal = {"`base_dir`", "`claims`", "`sources`"}  # set by the loader / own sections
    missing = sorted(
        k for k in _keys(StudyConfig) | _keys(Claim) if k not in internal and k not in text
    )
    assert missing == []
    assert "[[sources]]" in text and "claims.toml" in text


def test_data_quality_doc_explains_every_reason():
    text = (DOCS / "DATA_QUALITY.md").read_text(encoding="utf-8")
    missing = sorted(reason for reason in REASONS if f"`{reason}`" not in text)
    assert missing == []
