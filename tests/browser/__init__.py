"""End-to-end journeys in a real browser (Chromium of the distribution) against the app served by waitress."""
