"""Where the tests find the checkout and their own data, wherever a test file sits."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
