"""The defaults every entry point shares (SPEC section 2), importable without numpy or Arrow."""

BINS = 20
EPS = 1e-10
THRESHOLD = 0.1
BATCH_SIZE = 65_536
WINDOW = 100_000
MAX_CATEGORIES = 10_000
