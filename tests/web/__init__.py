"""Browser tests: Chromium, driven by Playwright, against a real ``weft serve``."""
