# The Talaan web, worker and beat image (one image, different commands).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The PDFs' font with a peso sign (kernel/pdf.py); without it they write PHP.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt . && rm -rf build *.egg-info

COPY . .
# The translations are compiled here (GNU gettext's msgfmt), then gettext is removed again.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gettext >/dev/null \
    && SECRET_KEY=compilemessages-only-not-a-runtime-key-0123456789 DATABASE_URL=sqlite:////tmp/x \
       python manage.py compilemessages --verbosity 0 \
    && apt-get purge -y -qq gettext >/dev/null && apt-get autoremove -y -qq >/dev/null \
    && rm -rf /var/lib/apt/lists/*
# collectstatic only needs a syntactically valid key; the real one comes at run time.
RUN SECRET_KEY=collectstatic-only-not-a-runtime-key-0123456789 DATABASE_URL=sqlite:////tmp/x \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 talaan && mkdir -p /app/var && chown talaan /app/var
USER talaan
EXPOSE 8000
CMD ["uvicorn", "talaan.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
