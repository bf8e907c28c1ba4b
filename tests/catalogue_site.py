"""The base-model catalogue of the tests: the shipped one with every provider's last day for
new fine-tuning jobs moved far out, so that a test of a provider's protocol does not start
failing on the day the real cut-off passes (2027-01-06 for OpenAI). Set for the test process
and, through ARBITER_CATALOGUE, every process it starts. Tests of the cut-off itself use the
shipped file (the ``shipped_catalogue`` fixture) with a travelling clock."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

SHIPPED_CATALOGUE = Path(__file__).resolve().parents[1] / "core" / "providers" / "catalogue.toml"

if not os.environ.get("ARBITER_CATALOGUE"):
    _far = re.sub(
        r"(?m)^fine_tuning_ends = .*$",
        "fine_tuning_ends = 2999-12-31",
        SHIPPED_CATALOGUE.read_text(encoding="utf-8"),
    )
    _test_catalogue = Path(tempfile.mkdtemp(prefix="arbiter-catalogue-")) / "catalogue.toml"
    _test_catalogue.write_text(_far, encoding="utf-8")
    os.environ["ARBITER_CATALOGUE"] = str(_test_catalogue)
