"""Generate data/vn-2025.json (34 provinces, 3,321 communes) from the vietnam-provinces package."""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

GEOGRAPHY = "vn-2025"
VALID_FROM = "2025-07-01"
DATA_DIR = Path(__file__).parent / "data"
MAX_PLAIN_BYTES = 1_000_000
EXPECTED_PROVINCES = 34
# Prefix the package puts on centrally-run cities ("Thành phố Hà Nội"); provinces have none ("Cao Bằng").
CITY_PREFIX = "Thành phố "


def clean_name(name: str) -> str:
    """NFC-normalise a name and collapse runs of whitespace (the package has a few 'Xã  X' typos)."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def short_name(name: str) -> str:
    """Name without the 'Thành phố ' prefix of centrally-run cities."""
    return name.removeprefix(CITY_PREFIX)


def build() -> dict[str, Any]:
    """Read the package's lookup tables and return the geography document, sorted by code."""
    import vietnam_provinces
    from vietnam_provinces import Province, Ward

    version = vietnam_provinces.__version__
    if not version.startswith("2025."):
        raise SystemExit(f"vietnam-provinces {version} is not a 2025.x (post-reform) release")

    communes: dict[int, list[dict[str, str]]] = {}
    for ward in Ward.iter_all():
        communes.setdefault(int(ward.province_code), []).append(
            {"code": f"{int(ward.code):05d}", "name": clean_name(ward.name), "kind": ward.division_type.value}
        )

    provinces: list[dict[str, Any]] = []
    for province in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        name = clean_name(province.name)
        provinces.append(
            {
                "code": f"{int(province.code):02d}",
                "name": name,
                "short_name": short_name(name),
                "kind": province.division_type.value,
                "communes": sorted(communes.pop(int(province.code), []), key=lambda c: c["code"]),
            }
        )
    if communes:
        raise SystemExit(f"communes of unknown provinces: {sorted(communes)}")
    if len(provinces) != EXPECTED_PROVINCES:
        raise SystemExit(f"expected {EXPECTED_PROVINCES} provinces, got {len(provinces)}")
    codes = [c["code"] for p in provinces for c in p["communes"]]
    if len(codes) != len(set(codes)):
        raise SystemExit("duplicate commune codes")

    return {
        "geography": GEOGRAPHY,
        "valid_from": VALID_FROM,
        "source": f"vietnam-provinces {version}",
        "source_data_date": getattr(vietnam_provinces, "__data_version__", None),
        "provinces": provinces,
    }


def write(document: dict[str, Any], out_dir: Path = DATA_DIR) -> Path:
    """Write compact JSON; gzip it instead when the plain file would exceed 1 MB."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode("utf-8") + b"\n"
    plain = out_dir / f"{document['geography']}.json"
    packed = out_dir / f"{document['geography']}.json.gz"
    if len(payload) <= MAX_PLAIN_BYTES:
        packed.unlink(missing_ok=True)
        plain.write_bytes(payload)
        return plain
    plain.unlink(missing_ok=True)
    # mtime=0 keeps the gzip bytes reproducible across runs.
    packed.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    return packed


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: build and write the geography file, print a summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    document = build()
    path = write(document, args.out_dir)
    n_communes = sum(len(p["communes"]) for p in document["provinces"])
    print(f"{path}: {len(document['provinces'])} provinces, {n_communes} communes, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
