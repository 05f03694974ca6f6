"""The console REST API under /api: its routes (their bodies are models in schemas/) and the OpenAPI document."""
