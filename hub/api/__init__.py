"""The console REST API under /api: routes, their request and response models, and the OpenAPI document."""
