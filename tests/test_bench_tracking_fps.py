"""bench/tracking_fps.py on a few frames of a given sequence folder (random weights: the ratio's
value means nothing here; that it runs, reads the folder and reports one does)."""

import platform

from e2e_helpers import run_command

from bench.common import cpu_name
from bench.tracking_fps import GOAL, markdown_result
from lwf_track.data.synthetic import generate_benchmark


def test_tracking_fps_reads_a_sequence_folder_and_writes_its_table(tmp_path):
    sequence = generate_benchmark(tmp_path / "seqs", 1, 4, seed=3, width=160, height=96)[0]
    args = ["-m", "bench.tracking_fps", "--frames", "3", "--rounds", "1"]
    args += ["--sequence", sequence, "--weights", tmp_path / "none.pth"]
    table = tmp_path / "fps.md"
    overrides = ["MODEL.REID.NUM_CONVS", "1"]  # both models are built with them
    result = run_command([*args, "--repeats", "2", "--markdown", table, *overrides], tmp_path)
    assert f"NUM_CONVS 1: 3 frames 160x96 of {sequence.name}" in result.stdout
    assert "measurement 2/2" in result.stdout
    assert "tracker / RetinaNet frames/s ratio:" in result.stdout and "median of 2" in result.stdout
    rows = [line for line in table.read_text().splitlines() if line.startswith("| `")]
    assert len(rows) == 1 and "none (random init)" in rows[0] and "NUM_CONVS 1`" in rows[0]
    assert len(rows[0].split("|")[7].split(" / ")) == 2  # one ratio per measurement

    empty = tmp_path / "empty"
    (empty / "img1").mkdir(parents=True)
    failed = run_command([*args[:6], "--sequence", empty], tmp_path, check=False)
    assert failed.returncode != 0 and "no .jpg frames" in failed.stderr


def test_the_goal_is_judged_on_the_median_measurement():
    result = {
        "config": "c.yaml",
        "frames": "3 160x96 of S",
        "weights": "w.pth",
        "fps": {"tracker": [9.0, 9.6, 9.9], "RetinaNet": [10.0, 10.0, 10.0]},
        "ratios": [0.90, GOAL + 0.01, 0.99],
        "machine": "x86_64, 2 torch threads, cpu",
    }
    row = next(line for line in markdown_result("cmd", result).splitlines() if "c.yaml" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3:] == ["10.0", "9.6", "4.2", "0.900 / 0.960 / 0.990", "**0.960**", "met"]
    result["ratios"] = [0.90, GOAL - 0.01, 0.99]
    assert markdown_result("cmd", result).splitlines()[4].endswith("| NOT met |")


def test_the_machine_line_names_the_cpu_model(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n")
    assert cpu_name(str(cpuinfo)) == f"AMD EPYC ({platform.machine()})"
    cpuinfo.write_text("processor\t: 0\n")  # no model name (some ARM kernels): the architecture
    assert cpu_name(str(cpuinfo)) == (platform.processor() or platform.machine())
    assert cpu_name(str(tmp_path / "absent")) == (platform.processor() or platform.machine())
