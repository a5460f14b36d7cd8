"""End-to-end tests: Chromium against a real uvicorn server and Celery worker (see conftest)."""
