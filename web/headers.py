"""Security headers on every answer (issue 9, defect 8): pages, partials, static files, errors and the API.

The Content Security Policy allows only this origin: scripts and styles from /static and /vendor (htmx,
Chart.js, zxing-wasm, whose WebAssembly needs 'wasm-unsafe-eval'), the camera stream as blob:/mediastream:,
no plugins, no framing (frame-ancestors 'none', and X-Frame-Options for older browsers), forms posting only
here. 'unsafe-inline' remains for the few small inline scripts of the box-office and shop pages and for
htmx's indicator style; everything else (other origins, eval, objects, frames) is refused."""

from __future__ import annotations

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeadersMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in present)]
            await send(message)

        await next_app(scope, receive, send_with_headers)
