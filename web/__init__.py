"""The Litestar web app: thin controllers over db/ operations, one folder per area."""
