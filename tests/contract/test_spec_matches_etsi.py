"""Contract: each of our OpenAPI documents matches its ETSI reference up to the allow-list.

The ETSI files are not part of the repository. They are looked up in the folder named by
``MEC_ETSI_SPECS_DIR``, or else in ``<repo>/../shared/etsi-mec-specs``; without them the
tests are skipped. Add one row to ``CASES`` per API.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mec_platform.specdiff import judge, load_allowlist
from mec_platform.specdiff.cli import main
from mec_platform.specdiff.compare import compare_specs
from mec_platform.specdiff.loader import load_spec

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ETSI_DIR = REPO.parent / "shared" / "etsi-mec-specs"

# (our spec, ETSI file name, allow-list), paths relative to the repository / ETSI folder.
CASES = [
    pytest.param(
        "specs/mec011_service_mgmt.yaml",
        "MEC011_ServiceMgmtAPI.yaml",
        "specs/etsi-differences/mec011_service_mgmt.yaml",
        id="mec011-service-mgmt",
    ),
    pytest.param(
        "specs/mec011_app_support.yaml",
        "MEC011_AppSupportAPI.yaml",
        "specs/etsi-differences/mec011_app_support.yaml",
        id="mec011-app-support",
    ),
    pytest.param(
        "specs/mec010_2_app_pkgm.yaml",
        "MEC010-2_AppPkgMgmt.yaml",
        "specs/etsi-differences/mec010_2_app_pkgm.yaml",
        id="mec010-2-app-pkgm",
    ),
    pytest.param(
        "specs/mec010_2_app_lcm.yaml",
        "MEC010-2_AppLcm.yaml",
        "specs/etsi-differences/mec010_2_app_lcm.yaml",
        id="mec010-2-app-lcm",
    ),
    pytest.param(
        "specs/mec033_iot.yaml",
        "MEC033_IoT.yaml",
        "specs/etsi-differences/mec033_iot.yaml",
        id="mec033-iot",
    ),
]


def etsi_file(name: str) -> Path:
    """The ETSI reference file ``name``, or skip when the ETSI folder is not available."""
    configured = os.environ.get("MEC_ETSI_SPECS_DIR")
    folder = Path(configured) if configured else DEFAULT_ETSI_DIR
    path = folder / name
    if not path.is_file():
        pytest.skip(
            f"ETSI reference file {name} not found in {folder}; set MEC_ETSI_SPECS_DIR "
            f"(currently {configured or 'unset'}) or provide {DEFAULT_ETSI_DIR}"
        )
    return path


@pytest.mark.parametrize(("ours", "etsi", "allow"), CASES)
def test_spec_matches_etsi_up_to_allow_list(
    ours: str, etsi: str, allow: str, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = etsi_file(etsi)
    status = main([str(REPO / ours), str(theirs), "--allow", str(REPO / allow)])
    captured = capsys.readouterr()
    assert status == 0, f"spec-diff found unexplained differences:\n{captured.out}{captured.err}"


@pytest.mark.parametrize(("ours", "etsi", "allow"), CASES)
def test_allow_list_has_no_stale_entries(ours: str, etsi: str, allow: str) -> None:
    theirs = etsi_file(etsi)
    allow_list = load_allowlist(REPO / allow)
    findings = compare_specs(
        load_spec(REPO / ours, "OURS"), load_spec(theirs, "THEIRS"), allow_list.path_renames
    )
    stale = [entry.pattern for entry in judge(findings, allow_list).stale]
    assert stale == [], "allow-list entries that match no difference any more"
