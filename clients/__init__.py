"""Outbound HTTP clients (httpx) for the Zalo OA, OAuth and ZNS APIs; every base URL is a setting."""
