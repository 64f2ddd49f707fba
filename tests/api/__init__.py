"""The native JSON API: its OpenAPI document, checked against a real node's answers."""
