"""server/pdf.py: Chinese text is embedded and extractable, and the same story gives the same bytes."""

import shutil
import subprocess

import pytest

from server import pdf


def _story():
    return [pdf.para("借款风险报告", "title"), pdf.para("区域销售经理 逾期率 30%，是销售代表的 3 倍。"),
            pdf.table(["岗位", "逾期率"], [["区域销售经理", "30.0%"], ["销售代表", "10.0%"]])]


def test_same_story_same_bytes():
    assert pdf.build(_story(), title="报告") == pdf.build(_story(), title="报告")


def test_chinese_text_is_extractable(tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed: .ci/run installs it")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf.build(_story(), title="报告"))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "区域销售经理" in text and "3 倍" in text
