"""Gate scanner: QR frame decoding, frame sources and the camera client."""
