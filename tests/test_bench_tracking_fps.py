"""bench/tracking_fps.py on a few frames of a given sequence folder (random weights: the ratio's
value means nothing here; that it runs, reads the folder and reports one does)."""

from e2e_helpers import run_command

from lwf_track.data.synthetic import generate_benchmark


def test_tracking_fps_reads_a_sequence_folder(tmp_path):
    sequence = generate_benchmark(tmp_path / "seqs", 1, 4, seed=3, width=160, height=96)[0]
    args = ["-m", "bench.tracking_fps", "--frames", "3", "--rounds", "1"]
    args += ["--sequence", sequence, "--weights", tmp_path / "none.pth"]
    result = run_command(args, tmp_path)
    assert f"3 frames 160x96 of {sequence.name}" in result.stdout
    assert "tracker / RetinaNet frames/s ratio:" in result.stdout

    empty = tmp_path / "empty"
    (empty / "img1").mkdir(parents=True)
    failed = run_command([*args[:6], "--sequence", empty], tmp_path, check=False)
    assert failed.returncode != 0 and "no .jpg frames" in failed.stderr
