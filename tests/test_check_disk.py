"""tools/check_disk.py: set-up stops with the free and the needed size when the disk is short."""

from tools.check_disk import main


def test_enough_disk_passes(tmp_path):
    assert main([str(tmp_path), "0"]) == 0


def test_short_disk_names_free_and_needed_size(tmp_path, capsys):
    assert main([str(tmp_path), "1e9"]) == 1
    message = capsys.readouterr().err
    assert "GiB free" in message and "needs about 1e+09 GiB" in message


def test_wrong_arguments_print_usage(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err
