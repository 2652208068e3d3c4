FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY jobs ./jobs
COPY static ./static
RUN pip install --no-cache-dir .
ENV REDLINE_HOST=0.0.0.0 REDLINE_PORT=8000
EXPOSE 8000
# REDIS_URL must point at the Redis shared by every server and worker.
CMD ["redline", "serve"]
