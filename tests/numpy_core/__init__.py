"""The numpy core as it stood before the compiled core (frozen): the reference the compiled paths are checked
against, whole-run counter by counter (tests/model/test_against_numpy_core.py), and the baseline of
benchmarks/model_throughput.py's ratios. Not shipped in the wheel; not edited except to fix a bug in both."""
