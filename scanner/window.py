"""The gate client's OpenCV window (Qt on X11): borderless and full screen, showing the live camera picture
or the verdict screen. Where no window manager honours "full screen" (a kiosk started with xinit, a bare
Xvfb) the window is still placed over the whole X screen."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import cv2
import numpy as np

QUIT_KEYS = (ord("q"), 27)  # q, Esc


def _x_screen_size() -> tuple[int, int] | None:
    """The default screen's size of the X display named by DISPLAY (libX11 through ctypes), or None."""
    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    x11 = ctypes.CDLL(name)
    x11.XOpenDisplay.restype, x11.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    x11.XDefaultScreen.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    display = x11.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = x11.XDefaultScreen(display)
        return x11.XDisplayWidth(display, screen), x11.XDisplayHeight(display, screen)
    finally:
        x11.XCloseDisplay(display)


class Window:
    """Fails early, with a clear message, where there is no display or OpenCV has no GUI."""

    NAME = "Ticket Center gate"

    def __init__(self) -> None:
        if not os.environ.get("DISPLAY"):
            raise RuntimeError(
                "no display (DISPLAY is not set): start the client on the gate's desktop, or use --headless"
            )
        try:
            cv2.namedWindow(self.NAME, cv2.WINDOW_NORMAL | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            raise RuntimeError(
                "this OpenCV build has no window support: install opencv-python, or use --headless"
            ) from exc
        # Asked only now: while the window holds its own X connection, closing ours does not reset a server
        # that had no other client (an X server resets when its last client leaves, losing the new window).
        size = _x_screen_size()
        if size:
            cv2.moveWindow(self.NAME, 0, 0)
            cv2.resizeWindow(self.NAME, *size)
        cv2.setWindowProperty(self.NAME, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
        self.quit = False
        self.last_key = -1  # the key pressed during the last show (-1: none), for the keypad

    def show(self, image: np.ndarray, wait_ms: int = 1) -> bool:
        """Show a frame; False (and `quit` set) when the attendant pressed q or Esc."""
        cv2.imshow(self.NAME, image)
        self.last_key = cv2.waitKey(wait_ms)
        self.quit = self.quit or (self.last_key != -1 and self.last_key & 0xFF in QUIT_KEYS)
        return not self.quit

    def close(self) -> None:
        cv2.destroyAllWindows()
        cv2.waitKey(1)  # let Qt take the window down before the process goes on or exits
